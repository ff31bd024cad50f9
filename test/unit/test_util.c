/* Unit tests of scim_util: strict base64url and base64, hashes and MACs
 * against published vectors, constant-time compare, identifier checks,
 * randomness and generated usernames. */

#include <check.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "scim_util.h"
#include "unit_suites.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* Decode s (its strlen) as base64url; the status. */
static apr_status_t url_dec(const char *s)
{
    unsigned char *out = NULL;
    apr_size_t n = 0;

    return scim_b64url_decode(pool, s, strlen(s), &out, &n);
}

static apr_status_t std_dec(const char *s)
{
    char *out = NULL;
    apr_size_t n = 0;

    return scim_b64_decode(pool, s, strlen(s), &out, &n);
}

/* RFC 4648 section 10 vectors (base64url differs only in 62/63). */
static const char *const rfc4648[][2] = {
    { "", "" },
    { "f", "Zg" },
    { "fo", "Zm8" },
    { "foo", "Zm9v" },
    { "foob", "Zm9vYg" },
    { "fooba", "Zm9vYmE" },
    { "foobar", "Zm9vYmFy" },
};

START_TEST(b64url_encode_rfc4648)
{
    const char *in = rfc4648[_i][0], *want = rfc4648[_i][1];

    ck_assert_str_eq(scim_b64url_encode(pool, (const unsigned char *)in,
                                        strlen(in)),
                     want);
}
END_TEST

START_TEST(b64url_decode_rfc4648)
{
    const char *want = rfc4648[_i][0], *in = rfc4648[_i][1];
    unsigned char *out = NULL;
    apr_size_t n = 0;

    ck_assert_int_eq(scim_b64url_decode(pool, in, strlen(in), &out, &n),
                     APR_SUCCESS);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_str_eq((char *)out, want); /* also checks NUL termination */
}
END_TEST

START_TEST(b64url_url_alphabet)
{
    static const unsigned char fbff[] = { 0xfb, 0xff, 0xfe };
    unsigned char *out = NULL;
    apr_size_t n = 0;

    ck_assert_str_eq(scim_b64url_encode(pool, fbff, 3), "-__-");
    ck_assert_int_eq(scim_b64url_decode(pool, "-__-", 4, &out, &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 3);
    ck_assert(memcmp(out, fbff, 3) == 0);
}
END_TEST

START_TEST(b64url_roundtrip_all_bytes)
{
    unsigned char data[300], *out = NULL;
    apr_size_t len, n = 0;

    for (len = 0; len < sizeof(data); len++) {
        data[len] = (unsigned char)(255 - len);
    }
    for (len = 0; len <= sizeof(data); len++) {
        const char *enc = scim_b64url_encode(pool, data, len);

        ck_assert_uint_eq(strlen(enc), (len * 4 + 2) / 3);
        ck_assert_int_eq(scim_b64url_decode(pool, enc, strlen(enc), &out, &n),
                         APR_SUCCESS);
        ck_assert_uint_eq(n, len);
        ck_assert(memcmp(out, data, len) == 0);
    }
}
END_TEST

START_TEST(b64url_rejects_padding)
{
    ck_assert_int_eq(url_dec("Zg=="), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zm8="), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zg="), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zm9v===="), APR_EINVAL);
    ck_assert_int_eq(url_dec("="), APR_EINVAL);
}
END_TEST

START_TEST(b64url_rejects_standard_alphabet)
{
    ck_assert_int_eq(url_dec("+__-"), APR_EINVAL);
    ck_assert_int_eq(url_dec("-/_-"), APR_EINVAL);
    ck_assert_int_eq(url_dec("-__-"), APR_SUCCESS);
}
END_TEST

START_TEST(b64url_rejects_whitespace_and_junk)
{
    ck_assert_int_eq(url_dec("Zm9v Yg"), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zm9v\nYg"), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zm9vYg\r\n"), APR_EINVAL);
    ck_assert_int_eq(url_dec(" Zm9v"), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zm9v\t"), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zm9v.g"), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zm\xc3\xa9v"), APR_EINVAL);
}
END_TEST

START_TEST(b64url_rejects_impossible_length)
{
    ck_assert_int_eq(url_dec("Z"), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zm9vY"), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zm9vYmFyZ"), APR_EINVAL);
}
END_TEST

START_TEST(b64url_rejects_stray_bits)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-_";
    char two[3] = "Z?", three[4] = "Zm?";
    int i, ok2 = 0, ok3 = 0;

    /* 2 chars carry 12 bits for 8: the low 4 bits of the last must be 0;
     * 3 chars carry 18 for 16: the low 2 bits. */
    for (i = 0; i < 64; i++) {
        two[1] = a[i];
        three[2] = a[i];
        if (url_dec(two) == APR_SUCCESS) {
            ck_assert_int_eq(i & 15, 0);
            ok2++;
        }
        if (url_dec(three) == APR_SUCCESS) {
            ck_assert_int_eq(i & 3, 0);
            ok3++;
        }
    }
    ck_assert_int_eq(ok2, 4);
    ck_assert_int_eq(ok3, 16);
    ck_assert_int_eq(url_dec("Zh"), APR_EINVAL);
    ck_assert_int_eq(url_dec("Zm9"), APR_EINVAL);
}
END_TEST

START_TEST(b64url_rejects_nul_and_uses_len)
{
    unsigned char *out = NULL;
    apr_size_t n = 0;

    ck_assert_int_eq(scim_b64url_decode(pool, "Zm\0v", 4, &out, &n), APR_EINVAL);
    /* not NUL-terminated input: only slen bytes are read */
    ck_assert_int_eq(scim_b64url_decode(pool, "Zm9v!!!!", 4, &out, &n),
                     APR_SUCCESS);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq((char *)out, "foo");
    ck_assert_int_eq(scim_b64url_decode(pool, "", 0, &out, &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(b64_decodes_canonical)
{
    static const unsigned char fbff[] = { 0xfb, 0xff };
    char *out = NULL;
    apr_size_t n = 0;

    ck_assert_int_eq(scim_b64_decode(pool, "dXNlcjpwYXNz", 12, &out, &n),
                     APR_SUCCESS);
    ck_assert_str_eq(out, "user:pass");
    ck_assert_int_eq(scim_b64_decode(pool, "Zm9vYg==", 8, &out, &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(out, "foob");
    ck_assert_int_eq(scim_b64_decode(pool, "Zm9vYmE=", 8, &out, &n), APR_SUCCESS);
    ck_assert_str_eq(out, "fooba");
    ck_assert_int_eq(scim_b64_decode(pool, "+/8=", 4, &out, &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 2);
    ck_assert(memcmp(out, fbff, 2) == 0);
    ck_assert_int_eq(scim_b64_decode(pool, "", 0, &out, &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(out, "");
    /* a NUL in the decoded data is returned, and counted */
    ck_assert_int_eq(scim_b64_decode(pool, "YQBi", 4, &out, &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 3);
    ck_assert(memcmp(out, "a\0b", 4) == 0);
}
END_TEST

START_TEST(b64_rejects_bad_input)
{
    ck_assert_int_eq(std_dec("Zm9vYg"), APR_EINVAL); /* no padding */
    ck_assert_int_eq(std_dec("Zm9vYg="), APR_EINVAL); /* short padding */
    ck_assert_int_eq(std_dec("Zm9vYg==="), APR_EINVAL); /* long padding */
    ck_assert_int_eq(std_dec("Zg=a"), APR_EINVAL); /* '=' not at end */
    ck_assert_int_eq(std_dec("Zm9v=Yg="), APR_EINVAL); /* '=' inside */
    ck_assert_int_eq(std_dec("Z==="), APR_EINVAL); /* 3 '=' */
    ck_assert_int_eq(std_dec("===="), APR_EINVAL);
    ck_assert_int_eq(std_dec("-_8="), APR_EINVAL); /* url alphabet */
    ck_assert_int_eq(std_dec("Zm9v YmFy"), APR_EINVAL); /* whitespace */
    ck_assert_int_eq(std_dec("Zm9v\r\nYmFy"), APR_EINVAL);
    ck_assert_int_eq(std_dec("Zh=="), APR_EINVAL); /* stray bits */
    ck_assert_int_eq(std_dec("Zm9="), APR_EINVAL);
    ck_assert_int_eq(std_dec("Zm9v*mFy"), APR_EINVAL);
}
END_TEST

START_TEST(sha256_vectors)
{
    unsigned char h[32];

    scim_sha256("abc", 3, h);
    ck_assert_str_eq(scim_hex(pool, h, 32),
                     "ba7816bf8f01cfea414140de5dae2223"
                     "b00361a396177a9cb410ff61f20015ad");
    scim_sha256("", 0, h);
    ck_assert_str_eq(scim_hex(pool, h, 32),
                     "e3b0c44298fc1c149afbf4c8996fb924"
                     "27ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(hmac_sha256_rfc4231)
{
    unsigned char mac[32], key[131];

    /* RFC 4231 test case 2 */
    scim_hmac_sha256((const unsigned char *)"Jefe", 4,
                     "what do ya want for nothing?", 28, mac);
    ck_assert_str_eq(scim_hex(pool, mac, 32),
                     "5bdcc146bf60754e6a042426089575c7"
                     "5a003f089d2739839dec58b964ec3843");
    /* test case 6: a key longer than the block size */
    memset(key, 0xaa, sizeof(key));
    scim_hmac_sha256(key, sizeof(key),
                     "Test Using Larger Than Block-Size Key - Hash Key First",
                     54, mac);
    ck_assert_str_eq(scim_hex(pool, mac, 32),
                     "60e431591ee0b67f0d8a26aacbf5b77f"
                     "8e0bc6213728c5140546040f0ee37f54");
    /* test case 7: a long key and a message longer than a block */
    scim_hmac_sha256(key, sizeof(key),
                     "This is a test using a larger than block-size key and a "
                     "larger than block-size data. The key needs to be hashed "
                     "before being used by the HMAC algorithm.",
                     152, mac);
    ck_assert_str_eq(scim_hex(pool, mac, 32),
                     "9b09ffa71b942fcb27635fbcd5b0e944"
                     "bfdc63644f0713938a7f51535c3a35e2");
    /* test case 1 */
    memset(key, 0x0b, 20);
    scim_hmac_sha256(key, 20, "Hi There", 8, mac);
    ck_assert_str_eq(scim_hex(pool, mac, 32),
                     "b0344c61d8db38535ca8afceaf0bf12b"
                     "881dc200c9833da726e9376c2e32cff7");
    /* a key of exactly one block (used as is) and of one byte more (hashed
     * first), an empty message (Python's hmac module) */
    for (int i = 0; i < 65; i++) {
        key[i] = (unsigned char)i;
    }
    scim_hmac_sha256(key, 64, "", 0, mac);
    ck_assert_str_eq(scim_hex(pool, mac, 32),
                     "3499f163f48604c0b15ac89e4e7c66f3"
                     "14fb3b203b8ac2f564828e62f6be9d9d");
    scim_hmac_sha256(key, 65, "abc", 3, mac);
    ck_assert_str_eq(scim_hex(pool, mac, 32),
                     "dfbffee4671bad00ed5d1e1999d55ed3"
                     "b0cc774ac357f9ebf649c1612414fcec");
}
END_TEST

START_TEST(hex_lower_case)
{
    static const unsigned char b[] = { 0x00, 0x0f, 0xa0, 0xff };

    ck_assert_str_eq(scim_hex(pool, b, 4), "000fa0ff");
    ck_assert_str_eq(scim_hex(pool, b, 0), "");
}
END_TEST

START_TEST(ct_equal)
{
    unsigned char a[32], b[32];

    memset(a, 7, sizeof(a));
    memcpy(b, a, sizeof(b));
    ck_assert(scim_ct_equal(a, b, 32));
    b[0] ^= 1;
    ck_assert(!scim_ct_equal(a, b, 32));
    b[0] ^= 1;
    b[31] ^= 0x80;
    ck_assert(!scim_ct_equal(a, b, 32));
    ck_assert(scim_ct_equal(a, b, 31));
    ck_assert(scim_ct_equal(a, b, 0));
}
END_TEST

START_TEST(uuid_check)
{
    ck_assert(scim_is_uuid("0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0e"));
    ck_assert(scim_is_uuid("0B6C7D2E-8F1A-4B3C-9D4E-5F6A7B8C9D0E"));
    ck_assert(scim_is_uuid("00000000-0000-0000-0000-000000000000"));
    ck_assert(!scim_is_uuid("0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0"));
    ck_assert(!scim_is_uuid("0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0e0"));
    ck_assert(!scim_is_uuid("0b6c7d2e08f1a-4b3c-9d4e-5f6a7b8c9d0e"));
    ck_assert(!scim_is_uuid("0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0g"));
    ck_assert(!scim_is_uuid("0b6c7d2e8f1a4b3c9d4e5f6a7b8c9d0e"));
    ck_assert(!scim_is_uuid("{0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0e}"));
    ck_assert(!scim_is_uuid(" 0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0e"));
    ck_assert(!scim_is_uuid("' OR 1=1 --"));
    ck_assert(!scim_is_uuid(""));
    ck_assert(!scim_is_uuid(NULL));
}
END_TEST

START_TEST(uuid7_layout)
{
    /* 2026-12-06T00:00:00.123Z: 1796515200123 ms = 0x01a248a67c7b */
    apr_time_t t = APR_INT64_C(1796515200123) * 1000 + 999;
    const char *a, *b;
    int i, same = 0;

    ck_assert_ptr_nonnull(a = scim_uuid7(pool, t));
    ck_assert(scim_is_uuid(a));
    ck_assert_uint_eq(strlen(a), 36);
    ck_assert_str_eq(apr_psprintf(pool, "%.13s", a), "01a248a6-7c7b");
    ck_assert_int_eq(a[14], '7'); /* version 7 */
    ck_assert(strchr("89ab", a[19]) != NULL); /* RFC 9562 variant */
    for (i = 0; i < 36; i++) {
        ck_assert(!(a[i] >= 'A' && a[i] <= 'F'));
    }
    /* In 64 ids of one millisecond, every character that holds random
     * bits takes more than one value (a byte left unfilled or masked would
     * not), and the version and variant are set in each. */
    {
        unsigned int seen[36] = { 0 };

        for (i = 0; i < 64; i++) {
            int k;

            ck_assert_ptr_nonnull(b = scim_uuid7(pool, t));
            ck_assert_str_eq(apr_psprintf(pool, "%.13s", b), "01a248a6-7c7b");
            ck_assert_int_eq(b[14], '7');
            ck_assert(strchr("89ab", b[19]) != NULL);
            same += strcmp(a, b) == 0;
            for (k = 0; k < 36; k++) {
                int v = b[k] >= 'a' ? b[k] - 'a' + 10 : b[k] - '0';

                if (b[k] != '-') {
                    seen[k] |= 1u << v;
                }
            }
        }
        ck_assert_int_eq(same, 0);
        for (i = 15; i < 36; i++) { /* after the version: rand_a, rand_b */
            if (i == 18 || i == 23) {
                continue;
            }
            ck_assert_msg((seen[i] & (seen[i] - 1)) != 0,
                          "character %d of the id never changed", i);
        }
        /* the variant character uses both of its two random bits */
        ck_assert_msg(seen[19] == 0xf00, "variant character: %x", seen[19]);
    }
    /* a later millisecond sorts after, as text and as a uuid */
    ck_assert_ptr_nonnull(b = scim_uuid7(pool, t + 1000));
    ck_assert(strcmp(a, b) < 0);
    /* a time before 1970 is clamped, never wraps into the future */
    ck_assert_ptr_nonnull(b = scim_uuid7(pool, -5));
    ck_assert_str_eq(apr_psprintf(pool, "%.13s", b), "00000000-0000");
}
END_TEST

#define IDS_PER_THREAD 200
static char thread_ids[2][IDS_PER_THREAD][37];

static void *make_ids(void *arg)
{
    char(*ids)[37] = arg;
    apr_pool_t *tp;
    int i;

    apr_pool_create(&tp, NULL);
    for (i = 0; i < IDS_PER_THREAD; i++) {
        const char *id = scim_uuid7(tp, APR_INT64_C(1796515200123) * 1000);

        if (id) {
            memcpy(ids[i], id, 37);
        }
    }
    apr_pool_destroy(tp);
    return NULL;
}

/* The random bits come from a buffer of each thread (scim_util.c): a forked
 * child must not make the ids its parent makes next, nor may two threads. */
START_TEST(uuid7_fork_and_threads)
{
    apr_time_t t = APR_INT64_C(1796515200123) * 1000;
    char child[2][37] = { { 0 } };
    const char *mine[2];
    int status, i, round;
    apr_hash_t *seen = apr_hash_make(pool);

    /* Two forks, two ids apart: a fork when the buffer happens to be empty
     * would let parent and child refill apart even without the fork
     * handler, and at most one of the two can be such a fork. */
    for (round = 0; round < 2; round++) {
        int fds[2];
        pid_t pid;

        ck_assert_ptr_nonnull(scim_uuid7(pool, t));
        ck_assert_int_eq(pipe(fds), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            const char *c = scim_uuid7(pool, t);

            _exit(c && write(fds[1], c, 36) == 36 ? 0 : 1);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ck_assert_int_eq(read(fds[0], child[round], 36), 36);
        close(fds[0]);
        close(fds[1]);
        ck_assert_ptr_nonnull(mine[round] = scim_uuid7(pool, t));
        ck_assert_msg(strcmp(mine[round], child[round]) != 0,
                      "the child made the parent's next id %s", mine[round]);
    }
    /* more ids than one block holds, all distinct */
    for (i = 0; i < 1000; i++) {
        const char *id = scim_uuid7(pool, t);

        ck_assert_ptr_nonnull(id);
        ck_assert_ptr_null(apr_hash_get(seen, id, APR_HASH_KEY_STRING));
        apr_hash_set(seen, id, APR_HASH_KEY_STRING, "");
    }
    for (round = 0; round < 2; round++) {
        ck_assert_ptr_null(apr_hash_get(seen, mine[round], APR_HASH_KEY_STRING));
        ck_assert_ptr_null(apr_hash_get(seen, child[round], APR_HASH_KEY_STRING));
    }
    /* two threads at once: each its own bits, none the other's */
    {
        pthread_t th[2];
        int k;

        for (k = 0; k < 2; k++) {
            ck_assert_int_eq(pthread_create(&th[k], NULL, make_ids, thread_ids[k]),
                             0);
        }
        for (k = 0; k < 2; k++) {
            ck_assert_int_eq(pthread_join(th[k], NULL), 0);
        }
        for (k = 0; k < 2; k++) {
            for (i = 0; i < IDS_PER_THREAD; i++) {
                ck_assert(scim_is_uuid(thread_ids[k][i]));
                ck_assert_ptr_null(
                    apr_hash_get(seen, thread_ids[k][i], APR_HASH_KEY_STRING));
                apr_hash_set(seen, thread_ids[k][i], APR_HASH_KEY_STRING, "");
            }
        }
    }
}
END_TEST

/* The UTF-8 and \u helpers both JSON readers use (scim_json.c,
 * scim_filter.c): RFC 3629 sequences only, ASCII hex digits only. */
START_TEST(utf8_helpers)
{
    static const struct {
        const char *s;
        apr_size_t n, want;
    } seqs[] = {
        { "a", 1, 1 },
        { "\xc3\xa9", 2, 2 },
        { "\xe2\x82\xac", 3, 3 },
        { "\xf0\x9f\x98\x80", 4, 4 },
        { "\xf4\x8f\xbf\xbf", 4, 4 }, /* U+10FFFF */
        { "\xe2\x82\xac", 2, 0 }, /* cut short */
        { "\xf0\x9f\x98\x80", 3, 0 },
        { "\x80", 1, 0 }, /* a continuation byte */
        { "\xc0\xaf", 2, 0 }, /* overlong */
        { "\xc1\xbf", 2, 0 },
        { "\xe0\x80\x80", 3, 0 },
        { "\xf0\x80\x80\x80", 4, 0 },
        { "\xed\xa0\x80", 3, 0 }, /* a surrogate */
        { "\xf4\x90\x80\x80", 4, 0 }, /* above U+10FFFF */
        { "\xf5\x80\x80\x80", 4, 0 },
        { "\xff", 1, 0 },
        { "\xc3\x28", 2, 0 }, /* not a continuation */
    };
    static const unsigned int cps[] = { 0x41,   0x7f,   0x80,    0x7ff,   0x800,
                                        0xfffd, 0xffff, 0x10000, 0x10ffff };
    static const char *const not_hex[] = { "/000",
                                           ":000",
                                           "@000",
                                           "G000",
                                           "`000",
                                           "g000",
                                           "\x80"
                                           "000",
                                           "\xff"
                                           "000",
                                           "000 " };
    unsigned int v;
    apr_size_t i;

    for (i = 0; i < sizeof(seqs) / sizeof(*seqs); i++) {
        ck_assert_msg(scim_utf8_seq((const unsigned char *)seqs[i].s, seqs[i].n)
                          == seqs[i].want,
                      "sequence %u", (unsigned int)i);
    }
    for (i = 0; i < sizeof(cps) / sizeof(*cps); i++) {
        char buf[8];
        char *end = scim_put_utf8(buf, cps[i]);
        apr_size_t len = (apr_size_t)(end - buf);

        ck_assert_uint_eq(len,
                          cps[i] < 0x80          ? 1
                              : cps[i] < 0x800   ? 2
                              : cps[i] < 0x10000 ? 3
                                                 : 4);
        /* what is written is one well-formed sequence of that length */
        ck_assert_uint_eq(scim_utf8_seq((unsigned char *)buf, len), len);
    }
    ck_assert(scim_hex4("09aF", &v));
    ck_assert_uint_eq(v, 0x09af);
    ck_assert(scim_hex4("FFFF", &v));
    ck_assert_uint_eq(v, 0xffff);
    for (i = 0; i < sizeof(not_hex) / sizeof(*not_hex); i++) {
        ck_assert_msg(!scim_hex4(not_hex[i], &v), "%s", not_hex[i]);
    }
}
END_TEST

START_TEST(tenant_slug_check)
{
    char s[70];

    ck_assert(scim_is_tenant_slug("acme"));
    ck_assert(scim_is_tenant_slug("a"));
    ck_assert(scim_is_tenant_slug("0"));
    ck_assert(scim_is_tenant_slug("acme-eu-2"));
    ck_assert(scim_is_tenant_slug("acme-"));
    ck_assert(!scim_is_tenant_slug("-acme"));
    ck_assert(!scim_is_tenant_slug("Acme"));
    ck_assert(!scim_is_tenant_slug("ac_me"));
    ck_assert(!scim_is_tenant_slug("ac.me"));
    ck_assert(!scim_is_tenant_slug("ac me"));
    ck_assert(!scim_is_tenant_slug("acm\xc3\xa9"));
    ck_assert(!scim_is_tenant_slug("../x"));
    ck_assert(!scim_is_tenant_slug(""));
    ck_assert(!scim_is_tenant_slug(NULL));
    memset(s, 'a', 63);
    s[63] = '\0';
    ck_assert(scim_is_tenant_slug(s));
    s[63] = 'a';
    s[64] = '\0';
    ck_assert(!scim_is_tenant_slug(s));
}
END_TEST

START_TEST(random_bytes)
{
    unsigned char a[32], b[32];

    ck_assert_int_eq(scim_random_bytes(a, sizeof(a)), APR_SUCCESS);
    ck_assert_int_eq(scim_random_bytes(b, sizeof(b)), APR_SUCCESS);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    ck_assert_int_eq(scim_random_bytes(a, 0), APR_SUCCESS);
}
END_TEST

START_TEST(random_base32)
{
    char s[65];
    int i;

    ck_assert_int_eq(scim_random_base32(s, 64), APR_SUCCESS);
    ck_assert_uint_eq(strlen(s), 64);
    for (i = 0; i < 64; i++) {
        ck_assert_ptr_nonnull(strchr("abcdefghijklmnopqrstuvwxyz234567", s[i]));
    }
}
END_TEST

START_TEST(generated_username)
{
    const char *idps[] = { "okta", "entra" };
    apr_hash_t *seen = apr_hash_make(pool);
    int i, j;

    for (i = 0; i < 200; i++) {
        const char *idp = idps[i % 2];
        const char *u = scim_generate_username(pool, idp, "acme-2");
        apr_size_t n = strlen(idp);

        ck_assert_ptr_nonnull(u);
        ck_assert_uint_eq(strlen(u), n + strlen("-provisioning-xxxxxx@acme-2"));
        ck_assert(strncmp(u, idp, n) == 0);
        ck_assert(strncmp(u + n, "-provisioning-", 14) == 0);
        for (j = 0; j < 6; j++) {
            ck_assert_ptr_nonnull(
                strchr("abcdefghijklmnopqrstuvwxyz234567", u[n + 14 + j]));
            ck_assert_int_ne(u[n + 14 + j], '\0');
        }
        ck_assert_str_eq(u + n + 20, "@acme-2");
        /* 2^30 suffixes: 200 draws collide with probability ~2e-5 */
        ck_assert_ptr_null(apr_hash_get(seen, u + n, APR_HASH_KEY_STRING));
        apr_hash_set(seen, u + n, APR_HASH_KEY_STRING, u);
    }
}
END_TEST

START_TEST(log_tag_macro)
{
    ck_assert_str_eq(SCIMLOGNO(00030), "SCIM00030: ");
}
END_TEST

Suite *scim_util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *b64 = tcase_create("base64");
    TCase *crypto = tcase_create("crypto");
    TCase *ids = tcase_create("ids");
    int nvec = (int)(sizeof(rfc4648) / sizeof(rfc4648[0]));

    tcase_add_checked_fixture(b64, setup, teardown);
    tcase_add_loop_test(b64, b64url_encode_rfc4648, 0, nvec);
    tcase_add_loop_test(b64, b64url_decode_rfc4648, 0, nvec);
    tcase_add_test(b64, b64url_url_alphabet);
    tcase_add_test(b64, b64url_roundtrip_all_bytes);
    tcase_add_test(b64, b64url_rejects_padding);
    tcase_add_test(b64, b64url_rejects_standard_alphabet);
    tcase_add_test(b64, b64url_rejects_whitespace_and_junk);
    tcase_add_test(b64, b64url_rejects_impossible_length);
    tcase_add_test(b64, b64url_rejects_stray_bits);
    tcase_add_test(b64, b64url_rejects_nul_and_uses_len);
    tcase_add_test(b64, b64_decodes_canonical);
    tcase_add_test(b64, b64_rejects_bad_input);
    suite_add_tcase(s, b64);

    tcase_add_checked_fixture(crypto, setup, teardown);
    tcase_add_test(crypto, sha256_vectors);
    tcase_add_test(crypto, hmac_sha256_rfc4231);
    tcase_add_test(crypto, hex_lower_case);
    tcase_add_test(crypto, ct_equal);
    tcase_add_test(crypto, random_bytes);
    tcase_add_test(crypto, random_base32);
    suite_add_tcase(s, crypto);

    tcase_add_checked_fixture(ids, setup, teardown);
    tcase_add_test(ids, uuid_check);
    tcase_add_test(ids, uuid7_layout);
    tcase_add_test(ids, uuid7_fork_and_threads);
    tcase_add_test(ids, utf8_helpers);
    tcase_add_test(ids, tenant_slug_check);
    tcase_add_test(ids, generated_username);
    tcase_add_test(ids, log_tag_macro);
    suite_add_tcase(s, ids);
    return s;
}
