-- The product has exactly fifteen slots, slot-001 … slot-015, seeded once.
INSERT INTO "slot" ("id", "name", "provider", "operation")
SELECT format('slot-%s', lpad(n::text, 3, '0')), format('Слот %s', lpad(n::text, 2, '0')), 'local', 'passthrough'
FROM generate_series(1, 15) AS n
ON CONFLICT ("id") DO NOTHING;
