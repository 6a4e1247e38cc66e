-- Member aliases compared the way people write names: alias_key is the alias
-- without '@' and spaces, Latin letters in lower case ('Kevin Li' and
-- '@kevinli' are one alias). set_by_message_id marks an alias taught in the
-- chat (/别名 老李 = 李建国), which replay re-derives from the message log;
-- aliases added on the CLI have none and stay.
ALTER TABLE member_aliases ADD COLUMN alias_key TEXT NOT NULL DEFAULT '';
ALTER TABLE member_aliases ADD COLUMN set_by_message_id BIGINT;
ALTER TABLE member_aliases ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE member_aliases SET alias_key = lower(replace(replace(replace(alias, ' ', ''), '@', ''), '＠', ''));
CREATE INDEX member_aliases_key ON member_aliases (alias_key);
