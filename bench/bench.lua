-- wrk script of bench/run: one request shape per run, chosen by environment
-- variables (wrk passes no options to scripts otherwise).
--   BENCH_MODE   get | filter | post | patch | put | delete | gpatch | getone
--                | floor-select | floor-name | floor-insert
--   BENCH_PATH   path prefix: /t/bench/scim/v2/Users, /floor/select, ...
--   BENCH_QUERY  extra query string for the floor (e.g. "&prep=1")
--   BENCH_TOKEN  provisioning token (Authorization: Bearer), SCIM modes only
--   BENCH_IDS    file with one account id per line (get, patch, floor-select;
--                delete: the users to delete, each used once: thread t of
--                BENCH_THREADS takes lines t, t + T, t + 2T, ...)
--   BENCH_NAMES  file with one userName per line (filter, floor-name)
--   BENCH_USERS  file with "id<TAB>userName<TAB>externalId" per line (put:
--                the full body keeps the user's own userName and externalId)
--   BENCH_ID     the one id of getone (GET of one fixed user) and of gpatch
--                (the group PATCHed)
--   BENCH_MEMBERS file of user ids for gpatch: thread t adds and removes the
--                user on line t, alternately (add, remove, add, ...), so the
--                group's size stays within its size + BENCH_THREADS
--   BENCH_THREADS wrk's -t (delete, gpatch)
--   BENCH_LABEL  name printed on the result line
-- Every response outside 2xx is counted; done() prints one line:
--   BENCHRESULT <label> <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors> <requests>
-- followed by BENCHSAMPLE lines with the first bad status and body, if any.

local mode   = os.getenv("BENCH_MODE") or "get"
local path   = os.getenv("BENCH_PATH") or "/"
local query  = os.getenv("BENCH_QUERY") or ""
local token  = os.getenv("BENCH_TOKEN")
local label  = os.getenv("BENCH_LABEL") or mode

-- The lines of a file as one string and two arrays of offsets outside the
-- Lua heap (LuaJIT's ffi). A million ids as a million Lua strings made every
-- new string dearer and stalled each wrk thread's connections for 0.1-0.5 s
-- now and then (each cycle of the collector walks them; with the collector
-- stopped, the string table's growth rehashes them all), and wrk's latency
-- correction spread those stalls over the p99 (bench/README.md, "The client
-- was the bottleneck"). lines(f).n is the count; at(l, i) the i-th line,
-- nil past the end.
local ffi = require("ffi")
local function lines(file)
   local l = { n = 0 }
   if not file then return l end
   local f = assert(io.open(file, "rb"))
   local blob = f:read("*a")
   f:close()
   local count = select(2, blob:gsub("\n", "\n")) + 1
   local first = ffi.new("int32_t[?]", count + 1)
   local last = ffi.new("int32_t[?]", count + 1)
   local pos, n = 1, 0
   while pos <= #blob do
      local e = blob:find("\n", pos, true) or (#blob + 1)
      if e > pos then
         n = n + 1
         first[n], last[n] = pos, e - 1
      end
      pos = e + 1
   end
   l.n, l.blob, l.first, l.last = n, blob, first, last
   return l
end
local function at(l, i)
   if i < 1 or i > l.n then return nil end
   return l.blob:sub(l.first[i], l.last[i])
end
local function any(l) return at(l, math.random(l.n)) end

local ids, names, users, members = lines(nil), lines(nil), lines(nil), lines(nil)
local one_id = os.getenv("BENCH_ID")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
if mode == "get" or mode == "patch" or mode == "floor-select" or mode == "delete" then
   ids = lines(os.getenv("BENCH_IDS"))
elseif mode == "filter" or mode == "floor-name" then
   names = lines(os.getenv("BENCH_NAMES"))
elseif mode == "put" then
   users = lines(os.getenv("BENCH_USERS")) -- "id<TAB>userName<TAB>externalId"
   local blob = users.blob
   for i = 1, users.n do  -- wrk runs on when a script fails to load: exit
      local f, l = users.first[i], users.last[i]
      local t1 = blob:find("\t", f, true)
      local t2 = t1 and blob:find("\t", t1 + 1, true)
      local t3 = t2 and blob:find("\t", t2 + 1, true)
      if not (t1 and t1 > f and t2 and t2 > t1 + 1 and t2 < l and (not t3 or t3 > l)) then
         io.stderr:write("bench.lua: BENCH_USERS line " .. i .. " is not id<TAB>userName<TAB>externalId\n")
         os.exit(1)
      end
   end
elseif mode == "gpatch" then
   members = lines(os.getenv("BENCH_MEMBERS"))
end

local function urlencode(s)
   return (s:gsub("[^%w%-%._~]", function(c)
      return string.format("%%%02X", string.byte(c))
   end))
end

local headers = { ["Accept"] = "application/scim+json" }
if token then headers["Authorization"] = "Bearer " .. token end
local body_headers = {}
for k, v in pairs(headers) do body_headers[k] = v end
body_headers["Content-Type"] = "application/scim+json"

local patch_body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
   .. '"Operations":[{"op":"replace","path":"active","value":false}]}'

-- The given and family names of bench/load.sql's users.
local given = { "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan",
                "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent",
                "Uma", "Victor", "Wendy" }
local family = { "Smith", "Jones", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Anderson",
                 "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson",
                 "White", "Harris", "Clark", "Lewis" }

-- A ~1 KB SCIM user like the loaded ones, with userName un and externalId
-- ext (by default "00u" and un's letters and digits).
local function user_body(un, ext)
   return string.format([[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"%s","externalId":"%s","name":{"givenName":"Bench","familyName":"Poster","middleName":"Q","formatted":"Bench Q Poster","honorificPrefix":"Dr."},"displayName":"Bench Poster","nickName":"Bench","title":"Senior Software Engineer","userType":"Employee","preferredLanguage":"en-US","locale":"en-US","timezone":"Europe/Berlin","active":true,"emails":[{"value":"%s","type":"work","primary":true},{"value":"home.%s","type":"home"}],"phoneNumbers":[{"value":"+1 555 0100 4242","type":"work"},{"value":"+1 555 0199 4242","type":"mobile"}],"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"US","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"E%s","costCenter":"CC-4200","organization":"Bench Corp","division":"Research and Development","department":"Platform Engineering","manager":{"value":"00u0000000000000001","displayName":"Grace Hopper"}}}]],
      un, ext or "00u" .. (un:gsub("[^%w]", "")), un, un, un:gsub("[^%d]", ""):sub(1, 12))
end

local function gpatch_body(op, uid)
   if op == "add" then
      return '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
         .. '"Operations":[{"op":"add","path":"members","value":[{"value":"' .. uid .. '"}]}]}'
   end
   return '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
      .. '"Operations":[{"op":"remove","path":"members[value eq \\"' .. uid .. '\\"]"}]}'
end

-- per-thread state (each thread runs this file in its own Lua state; globals,
-- so that done() can read them with thread:get)
counter, errors, sample_status, sample_body, exhausted = 0, 0, nil, nil, 0

local threads = {}
local next_tid = 0
function setup(thread)
   next_tid = next_tid + 1
   thread:set("tid", next_tid)
   table.insert(threads, thread)
end

function init(args)
   math.randomseed(os.time() * 1000 + (tid or 0) * 7919 + math.floor(os.clock() * 1e6))
   for _ = 1, 10 do math.random() end
end

function request()
   counter = counter + 1
   if mode == "get" then
      return wrk.format("GET", path .. "/" .. any(ids), headers)
   elseif mode == "floor-select" then
      return wrk.format("GET", path .. "?id=" .. any(ids) .. query, headers)
   elseif mode == "floor-name" then
      return wrk.format("GET", path .. "?name=" .. urlencode(any(names)) .. query, headers)
   elseif mode == "filter" then
      local n = any(names)
      return wrk.format("GET", path .. "?filter=" .. urlencode('userName eq "' .. n .. '"'), headers)
   elseif mode == "patch" then
      return wrk.format("PATCH", path .. "/" .. any(ids), body_headers, patch_body)
   elseif mode == "put" then
      local id, un, ext = any(users):match("^([^\t]+)\t([^\t]+)\t(.+)$")
      return wrk.format("PUT", path .. "/" .. id, body_headers, user_body(un, ext))
   elseif mode == "delete" then
      -- each user once; past the end of the list a 404 (counted as an error)
      local id = at(ids, (tid or 1) + (counter - 1) * nthreads)
      if not id then
         exhausted = exhausted + 1
         id = "00000000-0000-4000-8000-000000000000"
      end
      return wrk.format("DELETE", path .. "/" .. id, headers)
   elseif mode == "getone" then
      return wrk.format("GET", path .. "/" .. one_id, headers)
   elseif mode == "gpatch" then
      local uid = at(members, tid or 1)
      local op = (counter % 2 == 1) and "add" or "remove"
      return wrk.format("PATCH", path .. "/" .. one_id, body_headers, gpatch_body(op, uid))
   else -- post, floor-insert
      -- A name and an externalId at random places of their indexes, as a
      -- real directory's new users have: <Given>.<Family><n> like the
      -- loaded users (bench/load.sql), then what keeps it unique (p for
      -- POST, f for the floor's, the thread, the counter, the time); an
      -- Okta-like id of 17 random hex digits, as random as the loaded ones'.
      local un = string.format("%s.%s%d.%s%d-%d-%d@bench.example", given[math.random(#given)],
                               family[math.random(#family)],
                               math.random(9999999), mode == "post" and "p" or "f",
                               tid or 0, counter, os.time())
      local ext = string.format("00u%06x%06x%05x", math.random(0, 0xffffff),
                                math.random(0, 0xffffff), math.random(0, 0xfffff))
      local p = path
      if mode == "floor-insert" and #query > 0 then p = p .. "?" .. query:sub(2) end
      return wrk.format("POST", p, body_headers, user_body(un, ext))
   end
end

function response(status, hdrs, body)
   if status < 200 or status > 299 then
      errors = errors + 1
      if not sample_status then
         sample_status = status
         sample_body = body and body:sub(1, 300) or ""
      end
   end
end

function done(summary, latency, requests)
   local bad, sample, short = 0, nil, 0
   for _, t in ipairs(threads) do
      bad = bad + (t:get("errors") or 0)
      short = short + (t:get("exhausted") or 0)
      local s = t:get("sample_status")
      if s and not sample then sample = s .. " " .. (t:get("sample_body") or "") end
   end
   local e = summary.errors
   local sock = e.connect + e.read + e.write + e.timeout
   io.write(string.format("BENCHRESULT %s %.1f %.3f %.3f %d %d %d\n", label,
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      bad, sock, summary.requests))
   if sample then
      io.write("BENCHSAMPLE " .. label .. " " .. sample:gsub("\n", " ") .. "\n")
   end
   if short > 0 then
      io.write("BENCHSAMPLE " .. label .. " the list of users to delete ran out: "
         .. short .. " requests went to a missing id\n")
   end
end
