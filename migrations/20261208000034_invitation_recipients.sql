-- An invitation emailed to an address that is an account's verified one also reaches
-- that account's bell. Such an invitation has an id (the notification links to it) and
-- names the account, which may then open and accept it by that id as well as by the
-- emailed link's token. Invitations made before this have neither.
ALTER TABLE legacy_invitations ADD COLUMN id TEXT;
ALTER TABLE legacy_invitations ADD COLUMN invited_user_id TEXT REFERENCES users (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX legacy_invitations_id ON legacy_invitations (id);
CREATE INDEX legacy_invitations_invited_user ON legacy_invitations (invited_user_id);

-- The invitation a notification is about: its link opens it.
ALTER TABLE notifications ADD COLUMN invitation_id TEXT;
