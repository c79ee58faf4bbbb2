-- One database per service, created once on an empty volume by the postgres image's entrypoint.
-- Written by npm run render:deploy from nest-cli.json.
CREATE DATABASE users;
CREATE DATABASE orders;
