-- Whether a row's free text (a reflection's note and action, a journey's
-- label and data) is sealed is recorded in a column of its own, which no
-- text a user types can set. NULL: stored before this column existed and
-- not decided below; the configured keys decide when it is read, and
-- trustbot rekey records the answer.
ALTER TABLE reflections ADD COLUMN sealed BOOLEAN;
ALTER TABLE journeys ADD COLUMN sealed BOOLEAN;

-- The values of a row were always sealed together. A journey's data is
-- JSON, which begins with '{' unless it was sealed: it decides its row.
UPDATE journeys SET sealed = (substr(data, 1, 5) = 'enc1:');

-- A reflection with a value not shaped as sealed was stored as plain text.
UPDATE reflections SET sealed = FALSE
	WHERE (note = '' AND action = '')
	   OR (note != '' AND substr(note, 1, 5) != 'enc1:')
	   OR (action != '' AND substr(action, 1, 5) != 'enc1:');
