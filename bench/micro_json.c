/* What the module's JSON work costs for the benchmark's POST body, in one
 * thread, outside httpd (bench/README.md, fourteenth session): the strict
 * parse (scim_json_parse), the User normalisation, the dump of the stored
 * document, and Jansson's own json_loadb and json_dumps for comparison.
 * Build from the top of a configured and built tree (make; add
 * -fsanitize=address,undefined to the command if it was configured with
 * --enable-sanitizers), then run:
 *   cc -O2 -o /tmp/micro_json bench/micro_json.c -Imod_scim_provision -I. \
 *      $(apr-1-config --includes --cppflags) .libs/libscimcore.a \
 *      $(apr-1-config --link-ld --libs) -ljansson -lcrypto
 *   /tmp/micro_json [iterations]
 * Microseconds per call, averaged; not a test, and not run by the suite. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <jansson.h>

#include "scim_json.h"
#include "scim_schema.h"

/* bench.lua's POST body, with one user's values filled in */
static const char *const
    BODY = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"urn"
           ":ietf:params:scim:schemas:extension:enterprise:2.0:User\"],\"userN"
           "ame\":\"dave.smith123@bench.example\",\"externalId\":\"ext-123456"
           "\",\"name\":{\"givenName\":\"Bench\",\"familyName\":\"Poster\",\"m"
           "iddleName\":\"Q\",\"formatted\":\"Bench Q Poster\",\"honorificPref"
           "ix\":\"Dr.\"},\"displayName\":\"Bench Poster\",\"nickName\":\"Benc"
           "h\",\"title\":\"Senior Software Engineer\",\"userType\":\"Employee"
           "\",\"preferredLanguage\":\"en-US\",\"locale\":\"en-US\",\"timezone"
           "\":\"Europe/Berlin\",\"active\":true,\"emails\":[{\"value\":\"dave"
           "@bench.example\",\"type\":\"work\",\"primary\":true},{\"value\":\""
           "home.dave@bench.example\",\"type\":\"home\"}],\"phoneNumbers\":[{"
           "\"value\":\"+1 555 0100 4242\",\"type\":\"work\"},{\"value\":\"+1 "
           "555 0199 4242\",\"type\":\"mobile\"}],\"addresses\":[{\"type\":\"w"
           "ork\",\"streetAddress\":\"100 Universal City Plaza\",\"locality\":"
           "\"Hollywood\",\"region\":\"CA\",\"postalCode\":\"91608\",\"country"
           "\":\"US\",\"primary\":true}],\"urn:ietf:params:scim:schemas:extens"
           "ion:enterprise:2.0:User\":{\"employeeNumber\":\"E123\",\"costCente"
           "r\":\"CC-4200\",\"organization\":\"Bench Corp\",\"division\":\"Res"
           "earch and Development\",\"department\":\"Platform Engineering\",\""
           "manager\":{\"value\":\"00u0000000000000001\",\"displayName\":\"Gra"
           "ce Hopper\"}}}";

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    apr_pool_t *root, *p;
    size_t len = strlen(BODY);
    long n = argc > 1 ? atol(argv[1]) : 100000, i;
    double parse = 0, norm = 0, dump = 0, jload = 0, jdump = 0;

    apr_initialize();
    apr_pool_create(&root, NULL);
    apr_pool_create(&p, root);
    for (i = 0; i < n; i++) {
        const char *err = NULL;
        scim_fault_t fault = { 0, NULL, NULL };
        json_t *body, *doc, *j;
        char *s;
        double t0, t1, t2, t3, t4, t5;

        t0 = now();
        body = scim_json_parse(p, BODY, len, SCIM_JSON_MAX_DEPTH_DEFAULT, &err);
        t1 = now();
        if (!body
            || scim_schema_normalize(p, scim_schema_user(), body, 0, &doc, &fault)
                != APR_SUCCESS) {
            fprintf(stderr, "the body does not parse or normalise\n");
            return 1;
        }
        t2 = now();
        s = scim_json_dump(p, doc, 0);
        t3 = now();
        j = json_loadb(BODY, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
        t4 = now();
        free(json_dumps(j, JSON_COMPACT));
        t5 = now();
        json_decref(j);
        if (!s) {
            return 1;
        }
        parse += t1 - t0;
        norm += t2 - t1;
        dump += t3 - t2;
        jload += t4 - t3;
        jdump += t5 - t4;
        apr_pool_clear(p);
    }
    printf("%zu-byte body, %ld iterations, us per call:\n"
           "scim_json_parse %.2f  scim_schema_normalize %.2f  "
           "scim_json_dump %.2f  json_loadb %.2f  json_dumps %.2f\n",
           len, n, parse / n * 1e6, norm / n * 1e6, dump / n * 1e6,
           jload / n * 1e6, jdump / n * 1e6);
    return 0;
}
