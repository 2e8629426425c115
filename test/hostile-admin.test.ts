/** Hostile input on the admin API (test/hostile/admin.ts holds the cases). */
import { describeCases, useHostileApp } from "./helpers/hostile-suite";
import { ADMIN_CASES } from "./hostile/admin";

useHostileApp();

describeCases("hostile input on the admin API", ADMIN_CASES);
