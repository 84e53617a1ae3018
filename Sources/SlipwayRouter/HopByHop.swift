import NIOHTTP1
import Synchronization

/// Hop-by-hop headers are meaningful for one connection only and are never forwarded (RFC 9110 §7.6.1).
/// Framing headers (`Content-Length`, `Transfer-Encoding`) are kept: the codecs re-frame from them.
enum HopByHop {
    static let names: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "proxy-authenticate", "proxy-authorization"]

    static func stripped(_ headers: HTTPHeaders) -> HTTPHeaders {
        var listed = names
        for value in headers[canonicalForm: "connection"] { listed.insert(value.lowercased()) }
        listed.remove("transfer-encoding")
        listed.remove("content-length")
        var out = HTTPHeaders()
        out.reserveCapacity(headers.count)
        for (name, value) in headers where !listed.contains(name.lowercased()) {
            out.add(name: name, value: value)
        }
        return out
    }
}

enum RequestID {
    private static let counter = Atomic<UInt64>(0)
    private static let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)

    /// A random per-process prefix and a counter: unique per router run, cheap to make.
    static func next() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return "\(prefix)-\(String(n, radix: 16))"
    }
}
