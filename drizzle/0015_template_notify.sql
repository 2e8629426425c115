-- Every change of a slot's templates is announced on the slots' channel (whoever makes it), so the
-- instances' template caches on the booth's path drop the slot's rows at once.
CREATE OR REPLACE FUNCTION photochanger_template_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('photochanger_slot', OLD.slot_id);
  ELSE
    PERFORM pg_notify('photochanger_slot', NEW.slot_id);
    IF TG_OP = 'UPDATE' AND OLD.slot_id IS DISTINCT FROM NEW.slot_id THEN
      PERFORM pg_notify('photochanger_slot', OLD.slot_id);
    END IF;
  END IF;
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER template_changed AFTER INSERT OR UPDATE OR DELETE ON template_media
FOR EACH ROW EXECUTE FUNCTION photochanger_template_changed();
