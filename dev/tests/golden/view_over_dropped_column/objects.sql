CREATE VIEW user_names AS SELECT id, name FROM users;
