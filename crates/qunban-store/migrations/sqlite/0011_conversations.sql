-- What the bot remembers of one sender in one group between two messages:
-- an open question (a tentative task waiting for 是, a task waiting for its
-- owner or deadline) and the last message it acted on, for corrections and
-- undo. `state` is qunban_core::conversation::Conversation as JSON. Derived
-- from the message log like tasks: a replay deletes and rebuilds it.
CREATE TABLE chat_conversations (
    group_id INTEGER NOT NULL REFERENCES chat_groups(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
