"""The workspace's database as a whole: init, backup, transfer between databases."""
