#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SlipwayCore
import Synchronization

/// Finds a free TCP port on loopback for a process that binds it a moment later (an instance, a drill's
/// release, a test's listener).
///
/// The port is picked at random from 20000–32000 (below the kernel's ephemeral range, as Nomad's dynamic
/// ports are) and checked by binding it. A port from the ephemeral range (what binding port 0 gives) can be
/// taken in that moment by any outgoing connection on the host (the router's own pooled upstreams, the app's
/// database connections), and the instance then fails to start; below the range only an explicit bind
/// competes. A port handed out recently is not handed out again, so two calls in a row never agree. When the
/// range is unusable (the ephemeral range starts below it), the kernel chooses as before.
public enum PortAllocator {
    /// The range, clipped below the kernel's ephemeral range.
    static let dynamic: ClosedRange<Int> = {
        let low = ephemeralLow() ?? 32768
        return 20000...max(20000, min(32000, low - 1))
    }()

    private static let recent = Mutex<[Int]>([])

    public static func freePort() throws(SlipwayError) -> Int {
        if dynamic.count > 1000 {
            for _ in 0..<64 {
                let candidate = Int.random(in: dynamic)
                if claim(candidate) { return candidate }
            }
        }
        // The kernel's choice: still never the same port twice in a row.
        for _ in 0..<16 {
            let port = try probe(0)
            if remember(port) { return port }
        }
        throw SlipwayError(.internal, "cannot find a free port on 127.0.0.1")
    }

    /// Binds `port` to see that it is free, and remembers it; false when it is taken or was handed out recently.
    private static func claim(_ port: Int) -> Bool {
        guard !recent.withLock({ $0.contains(port) }), (try? probe(port)) != nil else { return false }
        return remember(port)
    }

    private static func remember(_ port: Int) -> Bool {
        recent.withLock { list in
            guard !list.contains(port) else { return false }
            list.append(port)
            if list.count > 512 { list.removeFirst(list.count - 512) }
            return true
        }
    }

        /// Binds 127.0.0.1:`port` (0: the kernel's choice), returns the port bound, and closes the socket.
    private static func probe(_ port: Int) throws(SlipwayError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SlipwayError(.internal, "socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else { throw SlipwayError(.internal, "port \(port) is taken") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The first port of `net.ipv4.ip_local_port_range`.
    static func ephemeralLow() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) else { return nil }
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) }
    }
}
