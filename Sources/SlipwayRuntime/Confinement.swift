#if canImport(Glibc)
import Glibc
#endif
import CSlipwayShims
import Foundation
import SlipwayCore

/// What a started program runs as: a user and groups, no new privileges, resource limits and a umask. posix_spawn
/// can set none of it, so the program is started through `slipway launch` (this binary, `launcher`), which
/// applies it to itself and then execs the program in place: same pid, nothing left between.
public struct Confinement: Sendable, Equatable {
    /// The user to become (nil: stay the daemon's), its login name and home for USER, LOGNAME and HOME.
    public var uid: UInt32?
    public var gid: UInt32?
    public var groups: [UInt32] = []
    public var userName: String?
    public var home: String?
    public var noNewPrivileges = true
    public var nofile: Int?
    public var nproc: Int?
    /// 027: what the program creates is not readable by other users.
    public var umask: UInt32 = 0o027

    public init() {}

    /// The config's `process.user`/`group`/`limits`, as this host knows the names. Throws a usage error naming the
    /// key for a user or group the host has not, or a user this daemon cannot become (it is not root).
    /// `euid`/`egid`: the daemon's own (parameters so the refusal can be tested as root).
    public static func resolve(_ p: ProcessPrivileges, key: String = "process", euid: UInt32 = geteuid(), egid: UInt32 = getegid()) throws(SlipwayError) -> Confinement {
        var c = Confinement()
        c.noNewPrivileges = p.noNewPrivileges
        c.nofile = p.nofile
        c.nproc = p.nproc
        if let user = p.user {
            guard let account = Account.user(user) else {
                throw SlipwayError(.usage, "\(key).user: there is no user '\(user)' on this host; create it (useradd --system \(user)) or change \(key).user")
            }
            c.uid = account.uid
            c.gid = account.gid
            c.userName = account.name
            c.home = account.home
            c.groups = account.name.map { Account.groups(of: $0, gid: account.gid) } ?? [account.gid]
        }
        if let group = p.group {
            guard let gid = Account.groupID(group) else {
                throw SlipwayError(.usage, "\(key).group: there is no group '\(group)' on this host; create it (groupadd --system \(group)) or change \(key).group")
            }
            c.gid = gid
            c.groups = [gid] + c.groups.filter { $0 != gid }
        }
        if let uid = c.uid ?? (c.gid != nil ? euid : nil), euid != 0, uid != euid || (c.gid.map { $0 != egid } ?? false) {
            let who = p.user.map { "user '\($0)'" } ?? "group '\(p.group ?? "")'"
            throw SlipwayError(.usage, "\(key).\(p.user != nil ? "user" : "group"): this daemon runs as uid \(euid), not root, and cannot become \(who); run the daemon as root (it drops to the user for each instance) or leave \(key).user and \(key).group out")
        }
        return c
    }

    /// The argv that starts `argv` (whose program is `program`, resolved) through `launcher` with this confinement.
    public func launch(_ argv: [String], program: String, launcher: String) -> [String] {
        var a = [launcher, "launch"]
        if let uid { a += ["--uid", String(uid)] }
        if let gid { a += ["--gid", String(gid)] }
        if !groups.isEmpty { a += ["--groups", groups.map(String.init).joined(separator: ",")] }
        if noNewPrivileges { a.append("--no-new-privileges") }
        if let nofile { a += ["--nofile", String(nofile)] }
        if let nproc { a += ["--nproc", String(nproc)] }
        a += ["--umask", String(umask, radix: 8), "--program", program, "--"]
        return a + argv
    }

    /// In `slipway launch`: limits, umask, groups, group, user, no new privileges, in that order (limits and groups
    /// need root, so before the user is dropped), each checked; then whether the working directory can still be
    /// read. Throws naming what failed.
    public func apply() throws(SlipwayError) {
        func fail(_ what: String) -> SlipwayError { SlipwayError(.failed, "slipway launch: \(what): \(String(cString: strerror(errno)))") }
        // glibc's RLIMIT_NPROC is a macro Swift does not see: its enum value.
        for (resource, value, name) in [(RLIMIT_NOFILE, nofile, "nofile"), (__RLIMIT_NPROC, nproc, "nproc")] {
            guard let value else { continue }
            var limit = rlimit(rlim_cur: rlim_t(value), rlim_max: rlim_t(value))
            guard setrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0 else { throw fail("cannot set the \(name) limit to \(value)") }
        }
        _ = Glibc.umask(mode_t(umask))
        if !groups.isEmpty {
            guard setgroups(groups.count, groups.map { gid_t($0) }) == 0 else { throw fail("cannot set the groups \(groups)") }
        }
        if let gid { guard setgid(gid_t(gid)) == 0 else { throw fail("cannot become group \(gid)") } }
        if let uid {
            guard setuid(uid_t(uid)) == 0 else { throw fail("cannot become user \(uid)") }
            // Dropped for good: no way back to root.
            guard getuid() == uid, geteuid() == uid, uid == 0 || setuid(0) != 0 else { throw fail("user \(uid) could become root again") }
        }
        if noNewPrivileges { guard cslipway_set_no_new_privs() == 0 else { throw fail("cannot set no_new_privileges") } }
        guard access(".", R_OK | X_OK) == 0 else {
            throw fail("user \(uid.map(String.init) ?? "?") cannot read the directory it starts in, \(FileManager.default.currentDirectoryPath) (every directory above it needs o+x or the user's group)")
        }
    }

    /// Applies the confinement and replaces this process with `program` (argv[0] `argv[0]`); returns only on failure.
    public func exec(program: String, argv: [String]) -> SlipwayError {
        do { try apply() } catch { return error }
        let cArgs = argv.map { strdup($0) } + [nil]
        execv(program, cArgs)
        return SlipwayError(.failed, "slipway launch: cannot run \(program): \(String(cString: strerror(errno)))")
    }
}

extension Confinement {
    /// Runs as the first of `names` this host has (its own group only, no new privileges, umask 077); nil when none.
    public static func user(_ names: [String]) -> Confinement? {
        guard let account = names.lazy.compactMap({ n in Account.user(n).flatMap { $0.name == nil ? nil : $0 } }).first else { return nil }
        var c = Confinement()
        c.uid = account.uid
        c.gid = account.gid
        c.userName = account.name
        c.home = account.home
        c.groups = [account.gid]
        c.umask = 0o077
        return c
    }
}
