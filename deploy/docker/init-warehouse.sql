-- Run once by the postgres image on an empty data directory: the warehouse gets a database and
-- a role of its own beside Dagster's instance database (its tables churn with every event).
CREATE ROLE outcome LOGIN PASSWORD 'change-me-too';
CREATE DATABASE warehouse OWNER outcome;
