import NIOCore
import SlipwayCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Listening sockets the router opens itself, so it holds their descriptors: a restart hands them to
/// the next router process, which accepts from the same queue (no connection is refused in between).
enum ListenSocket {
    /// A listening TCP socket on `address` (close-on-exec); the caller owns the descriptor.
    static func open(_ address: ListenAddress, backlog: Int32 = 1024) throws -> Int32 {
        let sa = try SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
        let family: Int32 = sa.protocol == .inet6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = sa.withSockAddr { ptr, size in bind(fd, ptr, socklen_t(size)) }
        guard bound == 0 else {
            let e = errno
            close(fd)
            throw SocketError("bind \(address)", e)
        }
        guard listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            throw SocketError("listen \(address)", e)
        }
        return fd
    }

    /// A close-on-exec duplicate of `fd` (NIO owns and closes the original with its channel).
    static func duplicate(_ fd: Int32) -> Int32 { fcntl(fd, F_DUPFD_CLOEXEC, 3) }

    struct SocketError: Error, CustomStringConvertible {
        let description: String
        init(_ what: String, _ code: Int32) { description = "\(what): \(String(cString: strerror(code)))" }
    }

    /// `SLIPWAY_ROUTER_INHERIT`: `HOST:PORT=FD;…`, the listening sockets a restarting router passed on.
    static func inherited(_ value: String?) -> [ListenAddress: Int32] {
        var out: [ListenAddress: Int32] = [:]
        for item in (value ?? "").split(separator: ";") {
            guard let eq = item.lastIndex(of: "="), let fd = Int32(item[item.index(after: eq)...]),
                  let address = ListenAddress(parsing: String(item[..<eq])) else { continue }
            out[address] = fd
        }
        return out
    }
}
