-- Used by DatabaseTest: a migration that fails must stop startup naming this file.
CREATE TABLE broken_on_purpose (id INTEGER PRIMARY KEY);
INSERT INTO no_such_table VALUES (1);
