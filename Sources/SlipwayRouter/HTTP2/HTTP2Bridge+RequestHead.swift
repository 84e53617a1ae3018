import NIOCore
import NIOHPACK

extension HTTP2Bridge {
    /// How a request's body is framed for the instance.
    enum Framing: Equatable {
        /// No body follows (`content-length: 0` added where the method may carry one, as HTTP/1.1 clients do).
        case none
        /// The client's own `content-length`.
        case declared
        /// The whole body is known: its length.
        case length(Int)
        case chunked
    }

    /// `GET /path HTTP/1.1`, `host` from `:authority` (unless the block has a `host`), the regular headers
    /// without connection-specific ones, `cookie` fields joined into one (RFC 9113 §8.2.3: an HTTP/1.1
    /// instance may read only the first), and the body's framing. The block was validated by the HTTP/2
    /// handler: lowercase names, no CR, LF or NUL in any value.
    static func requestHead(_ headers: HPACKHeaders, framing: Framing, allocator: ByteBufferAllocator) -> ByteBuffer {
        var method = "GET"
        var path: String?
        var authority: String?
        var hasHost = false, hasLength = false
        var cookies = 0
        for (name, value, _) in headers {
            switch name {
            case ":method": method = value
            case ":path": path = value
            case ":authority": authority = value
            case "host": hasHost = true
            case "content-length": hasLength = true
            case "cookie": cookies += 1
            default: break
            }
        }
        var out = allocator.buffer(capacity: 256)
        out.writeString(method)
        out.writeStaticString(" ")
        out.writeString(path ?? authority ?? "/")
        out.writeStaticString(" HTTP/1.1\r\n")
        if !hasHost, let authority {
            out.writeStaticString("host: ")
            out.writeString(authority)
            out.writeStaticString("\r\n")
        }
        var cookieWritten = false
        for (name, value, _) in headers where name.utf8.first != UInt8(ascii: ":") && !hopByHop(name) {
            if name == "cookie" && cookies > 1 {
                guard !cookieWritten else { continue }
                cookieWritten = true
                out.writeStaticString("cookie: ")
                out.writeString(headers["cookie"].joined(separator: "; "))
                out.writeStaticString("\r\n")
                continue
            }
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        switch framing {
        case .none:
            if !hasLength && !bodilessMethods.contains(method) { out.writeStaticString("content-length: 0\r\n") }
        case .declared:
            break
        case .length(let n):
            out.writeStaticString("content-length: ")
            out.writeString(String(n))
            out.writeStaticString("\r\n")
        case .chunked:
            out.writeStaticString("transfer-encoding: chunked\r\n")
        }
        out.writeStaticString("\r\n")
        return out
    }

    /// Methods whose requests carry no body by their semantics: no `content-length: 0` is added to them.
    static let bodilessMethods: Set<String> = ["GET", "HEAD", "DELETE", "CONNECT", "TRACE", "OPTIONS"]

    static func hopByHop(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { HTTP1ResponseReader.hopByHop(UnsafeRawBufferPointer($0)[...]) }
    }
}
