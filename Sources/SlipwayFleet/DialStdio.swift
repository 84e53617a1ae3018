import Foundation
import SlipwayCore

/// `slipway server dial-stdio`: bridges this process's stdin and stdout to a daemon's unix socket, for a
/// controller at the other end of `ssh HOST slipway server dial-stdio` (as `docker system dial-stdio` does). It
/// ends when either side closes: the daemon's answer was sent whole, or the controller went away (its stdin
/// closed), so no remote process outlives the connection.
public enum DialStdio {
    public static func run(socket path: String) throws(SlipwayError) -> Never {
        let fd = Foundation.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SlipwayError(.internal, "cannot make a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .usage("the socket path \(path) is too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            throw SlipwayError(.unavailable, "cannot reach the slipway daemon at \(path) (\(String(cString: strerror(errno)))); "
                               + "is `slipway server --host-only` running on this host, with this --root?")
        }
        let toDaemon = Thread {
            pump(from: 0, to: fd)
            exit(0)  // the controller is done or gone
        }
        toDaemon.start()
        pump(from: fd, to: 1)
        exit(0)  // the daemon answered and closed
    }

    /// Copies until `from` ends or `to` fails.
    static func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            var sent = 0
            while sent < n {
                let w = buffer.withUnsafeBytes { write(to, $0.baseAddress! + sent, n - sent) }
                if w < 0, errno == EINTR { continue }
                guard w > 0 else { return }
                sent += w
            }
        }
    }
}
