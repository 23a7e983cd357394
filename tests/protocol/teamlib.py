"""A team folder for the tests of per-reader state (per-user \\Seen,
private keywords, CONDSTORE): alice creates "Team" with messages and
shares it with bob, which makes its \\Seen per reader (SETACL granting "r"
to someone else, docs/acl.md)."""

from imapclient import append_circulars as append, login, ok


def make_team(env, prefix, n_messages, rights="lrsw", port=None):
    """(alice, bob, alice's session): fresh users, bob with an account,
    alice's "Team" holding n_messages and granted to bob; the session has
    nothing selected. bob sees it as "Other Users/<alice>/Team"."""
    alice, bob = env.new_user(prefix + "a"), env.new_user(prefix + "b")
    login(port or env.imap_port, bob).close()
    a = login(port or env.imap_port, alice)
    ok(a, "CREATE Team")
    append(a, "Team", n_messages)
    ok(a, f"SETACL Team {bob} {rights}")
    return alice, bob, a
