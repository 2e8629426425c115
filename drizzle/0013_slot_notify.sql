-- Every change of a slot is announced (whoever makes it: the API, the console, the CLI in another
-- process), so the instances' slot caches on the booth's path drop the old row at once.
CREATE OR REPLACE FUNCTION photochanger_slot_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('photochanger_slot', NEW.id);
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER slot_changed AFTER UPDATE ON slot FOR EACH ROW EXECUTE FUNCTION photochanger_slot_changed();
