-- Indexes the dispatcher's queries can use: each state the dispatcher
-- looks for gets its own partial index, in the order it reads.

DROP INDEX deliveries_work;
CREATE INDEX deliveries_pending ON deliveries (due_at, id) WHERE state = 'pending';
CREATE INDEX deliveries_sending ON deliveries (sending_at) WHERE state = 'sending';

-- The same columns as the unique key, which has its own index already.
DROP INDEX deliveries_user;
