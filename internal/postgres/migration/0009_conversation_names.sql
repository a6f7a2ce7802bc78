-- The display name Teams gives with each activity: how a mention of the
-- user (or the channel) reads. Forgotten with the reference.
ALTER TABLE conversations ADD COLUMN name TEXT NOT NULL DEFAULT '';
