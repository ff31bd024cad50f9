-- Loads :users SCIM users into tenant :'tenant' in one statement (run by
-- bench/run with psql -v users=N -v tenant=slug).  Each doc is a ~1 KB SCIM
-- User (core + enterprise extension) as Okta/Entra would have written it;
-- the columns mirror it.  userName: <prefix><Given>.<Family><n>@bench.example;
-- externalId: 00u and 17 hex digits of md5(<prefix><n>), at random places of
-- its index as Okta's ids are (bench.lua gives POST's new users random ones).
-- Optional: -v first=F (n runs from F, default 1) and -v prefix=P (default
-- empty): bench/run loads the users that DELETE /Users/{id} consumes with
-- prefix 'del.' and n beyond the main set, so their names never collide.
-- Only the columns below are written: a column a later migration adds with a
-- default keeps its default (no memberships are made here, so a per-user
-- groups column or version counter stays right).
\set ON_ERROR_STOP on
\if :{?first}
\else
\set first 1
\endif
\if :{?prefix}
\else
\set prefix ''
\endif
INSERT INTO accounts (tenant_id, kind, user_name, external_id, display_name,
                      active, billable, doc)
SELECT t.id, 'user', s.un, s.ext, s.gn || ' ' || s.fn, true, true,
       jsonb_build_object(
         'schemas', jsonb_build_array(
             'urn:ietf:params:scim:schemas:core:2.0:User',
             'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'),
         'userName', s.un,
         'externalId', s.ext,
         'name', jsonb_build_object(
             'givenName', s.gn, 'familyName', s.fn, 'middleName', s.mn,
             'formatted', s.gn || ' ' || s.mn || ' ' || s.fn,
             'honorificPrefix', 'Ms.'),
         'displayName', s.gn || ' ' || s.fn,
         'nickName', s.gn,
         'title', s.title,
         'userType', 'Employee',
         'preferredLanguage', 'en-US',
         'locale', 'en-US',
         'timezone', 'Europe/Berlin',
         'active', true,
         'emails', jsonb_build_array(
             jsonb_build_object('value', s.un, 'type', 'work', 'primary', true),
             jsonb_build_object('value', lower(s.gn) || '.' || lower(s.fn) || s.g
                                         || '@home.example', 'type', 'home')),
         'phoneNumbers', jsonb_build_array(
             jsonb_build_object('value', '+1 555 0100 ' || lpad((s.g % 10000)::text, 4, '0'),
                                'type', 'work'),
             jsonb_build_object('value', '+1 555 0199 ' || lpad((s.g % 10000)::text, 4, '0'),
                                'type', 'mobile')),
         'addresses', jsonb_build_array(jsonb_build_object(
             'type', 'work', 'streetAddress', (s.g % 900 + 100) || ' Universal City Plaza',
             'locality', 'Hollywood', 'region', 'CA', 'postalCode', '91608',
             'country', 'US', 'primary', true)),
         'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', jsonb_build_object(
             'employeeNumber', 'E' || s.g,
             'costCenter', 'CC-' || (4000 + s.g % 300),
             'organization', 'Bench Corp',
             'division', s.division,
             'department', s.department,
             'manager', jsonb_build_object(
                 'value', '00u' || lpad(to_hex(s.g / 10 + 1), 17, '0'),
                 'displayName', 'Manager ' || (s.g / 10 + 1))))
FROM tenants t,
     (SELECT s0.*, (:'prefix')::text || s0.gn || '.' || s0.fn || s0.g || '@bench.example'
                      AS un FROM
     (SELECT g,
             (ARRAY['Alice','Bob','Carol','Dave','Erin','Frank','Grace','Heidi',
                    'Ivan','Judy','Mallory','Niaj','Olivia','Peggy','Rupert',
                    'Sybil','Trent','Uma','Victor','Wendy'])[1 + g % 20] AS gn,
             (ARRAY['Smith','Jones','Garcia','Miller','Davis','Lopez','Wilson',
                    'Anderson','Thomas','Taylor','Moore','Jackson','Martin','Lee',
                    'Perez','Thompson','White','Harris','Clark','Lewis'])[1 + (g / 20) % 20]
                 AS fn,
             chr(65 + g % 26) AS mn,
             (ARRAY['Software Engineer','Senior Software Engineer','Product Manager',
                    'Account Executive','Support Engineer','Designer',
                    'Engineering Manager','Data Analyst'])[1 + g % 8] AS title,
             (ARRAY['Research and Development','Sales','Operations','Finance'])[1 + g % 4]
                 AS division,
             (ARRAY['Platform Engineering','Identity','Field Sales','Customer Success',
                    'Accounting','People Operations'])[1 + g % 6] AS department,
             '00u' || left(md5(:'prefix' || g), 17) AS ext
      FROM generate_series(:first, :first + :users - 1) AS gs(g)) s0) s
WHERE t.slug = :'tenant';
