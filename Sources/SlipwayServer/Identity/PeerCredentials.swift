#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The kernel's word on the process at the other end of a unix socket (`SO_PEERCRED`): it cannot be
/// forged by the client, unlike anything in the request.
struct PeerCredentials: Sendable, Equatable {
    // Laid out as Linux's `struct ucred` (pid_t, uid_t, gid_t).
    var pid: Int32
    var uid: UInt32
    var gid: UInt32

    /// Linux's `SO_PEERCRED`.
    static let option: Int32 = 17

    /// Only on a unix socket: on TCP, Linux answers `SO_PEERCRED` too, with no process behind it
    /// (pid 0, uid -1), which must never pass for a user.
    static func of(_ channel: any Channel) async -> PeerCredentials? {
        guard case .unixDomainSocket? = channel.localAddress, let provider = channel as? any SocketOptionProvider else { return nil }
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(option))
        guard let peer = try? await future.get(), peer.pid > 0, peer.uid != UInt32.max else { return nil }
        return peer
    }

    /// The OS user name of `uid` (the number itself when it has none).
    static func userName(uid: UInt32) -> String {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &pwd, &buffer, buffer.count, &result) == 0, result != nil, let name = pwd.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }
}
