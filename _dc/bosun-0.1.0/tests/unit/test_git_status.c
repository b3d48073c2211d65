/* git_status: the porcelain v2 and numstat parsers of change snapshots
 * (core/daemon/git/git_status.c) on git's own shapes -- changed, renamed,
 * conflicted, untracked and ignored entries, binary counts, renames in
 * numstat, the bound on entries -- their refusals, and paths that are not
 * UTF-8.  Also the branch template of worktree: (git_config.c). */
#include "config.h"

#include "tap.h"

#include "../../core/daemon/git/git_config.h"
#include "../../core/daemon/git/git_status.h"

#include <stdlib.h>
#include <string.h>

#define TEXT(s) s, sizeof s - 1

static char *dump(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(v);
    return s;
}

static void status_kinds(void **state)
{
    static const char text[] = "# branch.oid 0123\0"
                               "1 .M N... 100644 100644 100644 aa bb a b.txt\0"
                               "2 R. N... 100644 100644 100644 aa bb R100 new\0old\0"
                               "u UU N... 100644 100644 100644 100644 1 2 3 both\0"
                               "? sub/new file\0"
                               "! ignored\0";
    bool cut = true;
    char err[128];
    char *s = dump(git_status_parse(TEXT(text), 100, &cut, err, sizeof err));
    assert_string_equal(s, "[{\"path\":\"a b.txt\",\"status\":\".M\"},"
                           "{\"orig\":\"old\",\"path\":\"new\",\"status\":\"R.\"},"
                           "{\"path\":\"both\",\"status\":\"UU\"},"
                           "{\"path\":\"sub/new file\",\"status\":\"??\"},"
                           "{\"path\":\"ignored\",\"status\":\"!!\"}]");
    assert_false(cut);
    free(s);
    s = dump(git_status_parse(TEXT(text), 2, &cut, err, sizeof err));
    assert_true(cut);
    assert_string_equal(s, "[{\"path\":\"a b.txt\",\"status\":\".M\"},"
                           "{\"orig\":\"old\",\"path\":\"new\",\"status\":\"R.\"}]");
    free(s);
    json_t *none = git_status_parse("", 0, 10, &cut, err, sizeof err);
    assert_int_equal(json_array_size(none), 0);
    json_decref(none);
}

static void status_refusals(void **state)
{
    bool cut;
    char err[128];
    assert_null(git_status_parse(TEXT("? no nul"), 10, &cut, err, sizeof err));
    assert_non_null(strstr(err, "NUL"));
    assert_null(git_status_parse(TEXT("1 .M N... 100644 aa\0"), 10, &cut, err, sizeof err));
    assert_null(git_status_parse(TEXT("1 XY N... 1 2 3 a b c\0"), 10, &cut, err, sizeof err));
    assert_non_null(strstr(err, "XY"));
    assert_null(
        git_status_parse(TEXT("2 R. N... 1 2 3 a b R100 new\0"), 10, &cut, err, sizeof err));
    assert_null(git_status_parse(TEXT("x whatever\0"), 10, &cut, err, sizeof err));
    assert_null(git_status_parse(TEXT("? \0"), 10, &cut, err, sizeof err));
}

static void numstat_kinds(void **state)
{
    static const char text[] = "3\t1\ta.txt\0"
                               "-\t-\timage.png\0"
                               "0\t0\t\0from\0to\0";
    bool cut = true;
    char err[128];
    char *s = dump(git_numstat_parse(TEXT(text), 10, &cut, err, sizeof err));
    assert_string_equal(s, "[{\"added\":3,\"deleted\":1,\"path\":\"a.txt\"},"
                           "{\"added\":null,\"deleted\":null,\"path\":\"image.png\"},"
                           "{\"added\":0,\"deleted\":0,\"orig\":\"from\",\"path\":\"to\"}]");
    assert_false(cut);
    free(s);
    assert_null(git_numstat_parse(TEXT("3\tx\ta\0"), 10, &cut, err, sizeof err));
    assert_null(git_numstat_parse(TEXT("3\t1\0"), 10, &cut, err, sizeof err));
    assert_null(git_numstat_parse(TEXT("1\t1\t\0from\0"), 10, &cut, err, sizeof err));
    assert_null(git_numstat_parse(TEXT("1234567890123456\t1\ta\0"), 10, &cut, err, sizeof err));
}

static void paths_not_utf8(void **state)
{
    json_t *p = git_path_json(TEXT("caf\xc3\xa9"));
    assert_string_equal(json_string_value(p), "caf\xc3\xa9");
    json_decref(p);
    p = git_path_json(TEXT("a\xff"
                           "b\xc3"));
    assert_string_equal(json_string_value(p), "a?b?");
    json_decref(p);
}

static void branch_template(void **state)
{
    char err[128];
    char *b = worktree_branch_name("bosun/{task}-{run}", "ag", "01R", "T1", 2, err, sizeof err);
    assert_string_equal(b, "bosun/T1-01R");
    free(b);
    b = worktree_branch_name("x/{agent}.{instance}/{task}", "ag", "01R", NULL, 2, err, sizeof err);
    assert_string_equal(b, "x/ag.2/notask");
    free(b);
    assert_null(worktree_branch_name("b/{tsk}", "a", "r", NULL, 0, err, sizeof err));
    assert_non_null(strstr(err, "unknown placeholder"));
    assert_null(worktree_branch_name("b/}", "a", "r", NULL, 0, err, sizeof err));
    assert_null(worktree_branch_name("-b", "a", "r", NULL, 0, err, sizeof err));
    assert_null(worktree_branch_name("a..b", "a", "r", NULL, 0, err, sizeof err));
    assert_null(worktree_branch_name("b/{task}", "a", "r", "x y", 0, err, sizeof err));
    assert_non_null(strstr(err, "not a branch name"));
    assert_null(worktree_branch_name("b.lock", "a", "r", NULL, 0, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_kinds),    cmocka_unit_test(status_refusals),
        cmocka_unit_test(numstat_kinds),   cmocka_unit_test(paths_not_utf8),
        cmocka_unit_test(branch_template),
    };
    return RUN_TESTS(tests);
}
