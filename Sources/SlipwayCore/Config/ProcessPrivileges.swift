import Foundation

/// What an instance runs as (`process.user`, `group`, `no_new_privileges`, `limits`): the daemon, as root, drops to
/// the user before the app's program starts; as another user it refuses a `user:` it cannot become.
public struct ProcessPrivileges: Sendable, Equatable {
    /// A user name or a numeric uid (nil: the daemon's own user).
    public var user: String?
    /// A group name or a numeric gid (nil: the user's primary group).
    public var group: String?
    /// `PR_SET_NO_NEW_PRIVS`: neither the app nor anything it runs gains privileges through setuid files or file
    /// capabilities.
    public var noNewPrivileges: Bool
    /// `RLIMIT_NOFILE` (open files) and `RLIMIT_NPROC` (processes of the user), soft and hard.
    public var nofile: Int?
    public var nproc: Int?

    public init(user: String? = nil, group: String? = nil, noNewPrivileges: Bool = true, nofile: Int? = nil, nproc: Int? = nil) {
        self.user = user
        self.group = group
        self.noNewPrivileges = noNewPrivileges
        self.nofile = nofile
        self.nproc = nproc
    }

    /// A user or group as the config may name it: a login name, or a number.
    public static func isAccountName(_ s: String) -> Bool {
        s.range(of: #"^([a-z_][a-z0-9_.-]{0,31}|[0-9]{1,10})$"#, options: .regularExpression) != nil
    }
}
