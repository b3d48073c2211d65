# Shared by the worktree and change snapshot tests (source after lib.sh,
# before plan): git for repositories the test makes, with none of the
# machine's or the user's git configuration.
REAL_GIT=$(command -v git) ||
    { echo "1..0 # SKIP git is not installed (quickstart's PACKAGES has it)"; exit 0; }
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid GIT_COMMITTER_NAME=t \
    GIT_COMMITTER_EMAIL=t@example.invalid GIT_CONFIG_NOSYSTEM=1 HOME="$T"
# mkrepo DIR: a repository whose main branch has one commit: a.txt, "one".
mkrepo() {
    git init -q -b main "$1" && printf 'one\n' > "$1/a.txt" && git -C "$1" add a.txt &&
        git -C "$1" commit -qm first
}
