-- One database per service, created once on an empty volume by the postgres image's entrypoint.
CREATE DATABASE users;
CREATE DATABASE orders;
