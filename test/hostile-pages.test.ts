/** Hostile input on the admin pages (test/hostile/pages.ts holds the cases). */
import { describeCases, useHostileApp } from "./helpers/hostile-suite";
import { PAGE_CASES } from "./hostile/pages";

useHostileApp();

describeCases("hostile input on pages", PAGE_CASES);
