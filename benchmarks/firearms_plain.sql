-- The firearms figures and purchaser indicators written as plain DuckDB SQL, run in the store's own
-- connection: the baseline of benchmarks/firearms.py. What an analyst fluent in SQL would write
-- against the statement tables, with DuckDB's PIVOT, in one script. Statements end with ";" at a
-- line's end; every SELECT's rows are fetched.

CREATE TEMP TABLE b_trace AS
PIVOT (SELECT s.entity_id, p.prop, s.value FROM statement s JOIN property p ON p.prop_id = s.prop_id
       WHERE p.schema = 'Trace' AND s.import_no IN (SELECT no FROM import_run))
ON prop IN ('trace_number', 'recovery_date', 'trace_status', 'purchase_date', 'purchase_state', 'dealer_ffl',
            'time_to_crime_days')
USING first(value) GROUP BY entity_id;

CREATE TEMP TABLE b_ref AS
SELECT r.entity_id, p.schema, p.prop, r.target AS rec, COALESCE(c.canonical_id, r.target) AS canonical
FROM entity_ref r JOIN property p ON p.prop_id = r.prop_id LEFT JOIN entity_cluster c ON c.entity_id = r.target
WHERE p.schema IN ('Trace', 'FirearmPurchase') AND r.import_no IN (SELECT no FROM import_run);

CREATE TEMP TABLE b_value AS
SELECT s.entity_id, p.schema, p.prop, s.value FROM statement s JOIN property p ON p.prop_id = s.prop_id
WHERE ((p.schema = 'Firearm' AND p.prop IN ('firearm_type', 'caliber', 'model', 'serial_obliterated'))
    OR (p.schema = 'FirearmRecovery' AND p.prop IN ('state', 'municipality'))
    OR (p.schema = 'Organization' AND p.prop = 'ffl_number')
    OR (p.schema = 'FirearmPurchase' AND p.prop IN ('date', 'state', 'multiple_sale')))
  AND s.import_no IN (SELECT no FROM import_run);

CREATE TEMP TABLE b_t AS
SELECT t.entity_id AS trace, CAST(t.recovery_date AS DATE) AS recovery_date, t.trace_status AS status,
       CAST(t.purchase_date AS DATE) AS purchase_date, t.purchase_state, t.dealer_ffl,
       COALESCE(CAST(t.time_to_crime_days AS INTEGER),
                CAST(CAST(t.recovery_date AS DATE) - CAST(t.purchase_date AS DATE) AS INTEGER)) AS ttc,
       pu.canonical AS purchaser, po.canonical AS possessor,
       (SELECT first(value) FROM b_value v WHERE v.entity_id = rc.rec AND v.prop = 'state') AS recovery_state,
       (SELECT first(value) FROM b_value v WHERE v.entity_id = rc.rec AND v.prop = 'municipality') AS municipality,
       (SELECT first(value) FROM b_value v WHERE v.entity_id = f.rec AND v.prop = 'firearm_type') AS f_type,
       (SELECT first(value) FROM b_value v WHERE v.entity_id = f.rec AND v.prop = 'caliber') AS caliber,
       (SELECT first(value) FROM b_value v WHERE v.entity_id = f.rec AND v.prop = 'serial_obliterated') AS serial
FROM b_trace t
LEFT JOIN b_ref pu ON pu.entity_id = t.entity_id AND pu.schema = 'Trace' AND pu.prop = 'purchaser'
LEFT JOIN b_ref po ON po.entity_id = t.entity_id AND po.schema = 'Trace' AND po.prop = 'possessor'
LEFT JOIN b_ref rc ON rc.entity_id = t.entity_id AND rc.schema = 'Trace' AND rc.prop = 'recovery'
LEFT JOIN b_ref f ON f.entity_id = t.entity_id AND f.schema = 'Trace' AND f.prop = 'firearm';

CREATE TEMP TABLE b_p AS
WITH v AS (PIVOT (SELECT entity_id, prop, value FROM b_value WHERE schema = 'FirearmPurchase')
           ON prop IN ('date', 'state', 'multiple_sale') USING first(value) GROUP BY entity_id)
SELECT v.entity_id AS purchase, CAST(v.date AS DATE) AS purchase_date, v.state AS purchase_state, v.multiple_sale,
       pu.canonical AS purchaser,
       (SELECT first(value) FROM b_value x WHERE x.entity_id = d.rec AND x.prop = 'ffl_number') AS dealer_ffl,
       (SELECT first(value) FROM b_value x WHERE x.entity_id = f.rec AND x.prop = 'firearm_type') AS f_type,
       (SELECT first(value) FROM b_value x WHERE x.entity_id = f.rec AND x.prop = 'caliber') AS caliber,
       (SELECT first(value) FROM b_value x WHERE x.entity_id = f.rec AND x.prop = 'model') AS model
FROM v
LEFT JOIN b_ref pu ON pu.entity_id = v.entity_id AND pu.schema = 'FirearmPurchase' AND pu.prop = 'purchaser'
LEFT JOIN b_ref d ON d.entity_id = v.entity_id AND d.schema = 'FirearmPurchase' AND d.prop = 'dealer'
LEFT JOIN b_ref f ON f.entity_id = v.entity_id AND f.schema = 'FirearmPurchase' AND f.prop = 'firearm';

-- summary
SELECT count(*), count(*) FILTER (WHERE status LIKE 'completed%'), count(purchaser), median(ttc),
       count(*) FILTER (WHERE ttc < 366), count(*) FILTER (WHERE ttc < 1096),
       count(*) FILTER (WHERE purchaser <> possessor), count(*) FILTER (WHERE serial = 'obliterated')
FROM b_t;

-- source states and dealers
SELECT purchase_state, count(*), count(*) / sum(count(*)) OVER (), median(ttc) FROM b_t
WHERE purchase_state IS NOT NULL GROUP BY 1 ORDER BY 2 DESC;
SELECT dealer_ffl, count(*), count(*) FILTER (WHERE ttc < 1096), median(ttc) FROM b_t
WHERE dealer_ffl IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 50;

-- time-to-crime in bands, and by type
SELECT CASE WHEN ttc < 366 THEN '< 1' WHEN ttc < 731 THEN '1-2' WHEN ttc < 1096 THEN '2-3' WHEN ttc < 1827
       THEN '3-5' WHEN ttc < 3653 THEN '5-10' WHEN ttc < 7305 THEN '10-20' ELSE '20+' END, count(*)
FROM b_t WHERE ttc IS NOT NULL GROUP BY 1;
SELECT f_type, median(ttc), count(*) FILTER (WHERE ttc < 1096) / count(ttc) FROM b_t
WHERE ttc IS NOT NULL GROUP BY 1;

-- trace results, types and calibers by year, corridors
SELECT status, count(*) FROM b_t GROUP BY 1;
SELECT year(recovery_date), f_type, count(*) FROM b_t GROUP BY 1, 2;
SELECT year(recovery_date), caliber, count(*) FROM b_t GROUP BY 1, 2;
SELECT purchase_state, recovery_state, count(*) FROM b_t
WHERE purchase_state IS NOT NULL AND recovery_state IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 100;

-- purchaser indicators: multiple sales (five business days), cartel-favoured guns, trace rules,
-- guns recovered together, cartel-favoured guns bought beside a purchaser flagged by the traces
CREATE TEMP TABLE b_kind AS
SELECT purchase, purchaser, multiple_sale,
       5 * CAST(floor(CAST(purchase_date - DATE '1970-01-05' AS INTEGER) / 7) AS INTEGER)
       + LEAST(CAST(purchase_date - DATE '1970-01-05' AS INTEGER) % 7, 5) AS bday,
       CASE WHEN f_type IN ('pistol', 'revolver', 'derringer') THEN 'handgun'
            WHEN f_type = 'rifle' AND NOT starts_with(lower(caliber), '.22')
                 AND purchase_state IN ('US-AZ', 'US-CA', 'US-NM', 'US-TX') THEN 'rifle' END AS kind,
       regexp_matches(lower(model), 'ak|wasr|draco|ar-15|ar15|ar-556|m&p15|xm-15|am-15|pa-15|psak|zpap|vska|five-seven|ps90|m82|barrett')
       OR lower(caliber) IN ('7.62x39mm', '7.62x39', '5.56mm', '5.56x45mm', '.223', '.223 remington', '.50 bmg',
                             '5.7x28mm', '.38 super') AS cartel,
       dealer_ffl, purchase_date
FROM b_p WHERE purchaser IS NOT NULL;

SELECT a.purchaser, a.kind, count(DISTINCT a.purchase) FROM b_kind a
WHERE a.multiple_sale = 'yes' OR EXISTS (SELECT 1 FROM b_kind b WHERE b.purchaser = a.purchaser AND b.kind = a.kind
                                          AND b.purchase <> a.purchase AND abs(b.bday - a.bday) <= 4)
GROUP BY 1, 2;
SELECT purchaser, count(*) FROM b_kind WHERE cartel GROUP BY 1 HAVING count(*) >= 2;
SELECT purchaser, count(*) FILTER (WHERE ttc < 1096), count(*) FILTER (WHERE possessor <> purchaser),
       count(*) FILTER (WHERE recovery_state <> purchase_state)
FROM b_t WHERE purchaser IS NOT NULL GROUP BY 1;
SELECT purchaser, count(DISTINCT other) FROM (
  SELECT a.purchaser, b.purchaser AS other FROM b_t a JOIN b_t b
    ON a.recovery_date = b.recovery_date AND a.municipality = b.municipality AND a.recovery_state = b.recovery_state
  UNION ALL SELECT a.purchaser, b.purchaser FROM b_t a JOIN b_t b ON a.possessor = b.possessor)
WHERE purchaser IS NOT NULL AND other <> purchaser GROUP BY 1;
SELECT a.purchaser, count(DISTINCT b.purchaser) FROM b_kind a JOIN b_kind b ON b.dealer_ffl = a.dealer_ffl
  AND b.purchaser <> a.purchaser AND abs(b.purchase_date - a.purchase_date) <= 30
WHERE a.cartel AND b.cartel AND b.purchaser IN (SELECT purchaser FROM b_t WHERE ttc < 1096
                                                 AND recovery_state <> purchase_state)
GROUP BY 1;
