/// Reads an HTTP/1 request or response head in place, without copying it: the start line, where each
/// header line is, and the few headers routing and framing need. Everything else is copied through as is.
struct HeadScanner {
    enum Kind: UInt8 {
        case other, host, contentLength, transferEncoding, connection, keepAlive, upgrade, hop
        case forwardedFor, forwardedProto, forwardedHost, requestId
    }

    /// One header line: offsets into the scanned bytes.
    struct Line {
        var start: Int
        var nameEnd: Int
        var valueStart: Int
        var valueEnd: Int
        var kind: Kind
    }

    /// What the head says, as far as the router cares.
    struct Head {
        /// Where the start line begins (empty lines before a request are skipped) and ends (before CR LF).
        var start = 0
        var startLineEnd = 0
        /// Bytes through the blank line that ends the head.
        var length = 0
        var http10 = false
        var isHEAD = false
        var isGET = false
        var status = 0
        var contentLength: Int?
        var transferEncoding = false
        var chunked = false
        var connectionClose = false
        var connectionKeepAlive = false
        var connectionUpgrade = false
        /// `Connection` names other headers, which are then dropped too.
        var connectionOthers = false
        var upgrade = false
        /// Lines of headers that are always hop-by-hop (`Keep-Alive`, `TE`, `Trailer`, `Upgrade`, `Proxy-*`).
        var hopLines = 0
        var host: Int?
        var forwardedFor = false
        var forwardedProto = false
        var forwardedHost = false
        var requestId: Int?

        var keepAlive: Bool { http10 ? connectionKeepAlive && !connectionClose : !connectionClose }
        var wantsUpgrade: Bool { connectionUpgrade && upgrade }

        /// A response head a keep-alive HTTP/1.1 client can take as it is: no hop-by-hop header other than
        /// `Connection: keep-alive` (which holds for the client's connection too) and unambiguous framing.
        var unchangedForClient: Bool {
            !http10 && hopLines == 0 && !connectionClose && !connectionUpgrade && !connectionOthers && status != 101
                && !(transferEncoding && contentLength != nil)
        }
    }

    enum Outcome: Equatable { case incomplete, complete, invalid(String) }

    static let maxHead = 64 * 1024
    var lines: [Line] = []
    var head = Head()

    init() { lines.reserveCapacity(32) }

    /// Scans `p` for a complete head; on `.complete`, `head` and `lines` describe it.
    mutating func scan(_ p: UnsafeRawBufferPointer, request: Bool) -> Outcome {
        lines.removeAll(keepingCapacity: true)
        head = Head()
        let end = p.count
        var s = 0
        // A request may follow stray empty lines (RFC 9112 §2.2).
        while request, s + 1 < end, p[s] == 0x0D || p[s] == 0x0A { s += 1 }
        guard let first = HTTPScan.newline(p, from: s, end: end) else { return tooLong(end) }
        let firstEnd = first > s && p[first - 1] == 0x0D ? first - 1 : first
        head.start = s
        head.startLineEnd = firstEnd
        if let problem = request ? requestLine(p, s, firstEnd) : statusLine(p, s, firstEnd) { return .invalid(problem) }
        var lineStart = first + 1
        while true {
            guard let nl = HTTPScan.newline(p, from: lineStart, end: end) else { return tooLong(end) }
            let le = nl > lineStart && p[nl - 1] == 0x0D ? nl - 1 : nl
            if le == lineStart {
                head.length = nl + 1
                break
            }
            if HTTPScan.isSpace(p[lineStart]) { return .invalid("folded header lines are not accepted") }
            var colon = lineStart
            while colon < le && p[colon] != UInt8(ascii: ":") {
                // A field name is a token (RFC 9110 §5.1): `Content Length` is not one, and must not reach an instance.
                guard HTTPScan.isTokenByte(p[colon]) else { return .invalid("a header name is not a token (it has a space or a separator)") }
                colon += 1
            }
            guard colon < le, colon > lineStart else { return .invalid("a header line is not 'name: value'") }
            var vs = colon + 1, ve = le
            while vs < ve && HTTPScan.isSpace(p[vs]) { vs += 1 }
            while ve > vs && HTTPScan.isSpace(p[ve - 1]) { ve -= 1 }
            let kind = Self.kind(p, lineStart, colon)
            if let problem = note(kind, p, vs, ve, index: lines.count, request: request) { return .invalid(problem) }
            lines.append(Line(start: lineStart, nameEnd: colon, valueStart: vs, valueEnd: ve, kind: kind))
            lineStart = nl + 1
        }
        if request && head.transferEncoding && !head.chunked { return .invalid("a request's Transfer-Encoding must end in chunked") }
        if request && head.transferEncoding && head.contentLength != nil { return .invalid("a request has both Content-Length and Transfer-Encoding") }
        return .complete
    }

    private func tooLong(_ n: Int) -> Outcome { n > Self.maxHead ? .invalid("the head is longer than 64 KiB") : .incomplete }

    private mutating func requestLine(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> String? {
        var sp = s
        while sp < e && p[sp] != 0x20 { sp += 1 }
        guard sp > s, e - sp > 10 else { return "the request line is not 'METHOD target HTTP/1.x'" }
        head.isGET = sp - s == 3 && p[s] == UInt8(ascii: "G") && p[s + 1] == UInt8(ascii: "E") && p[s + 2] == UInt8(ascii: "T")
        head.isHEAD = sp - s == 4 && p[s] == UInt8(ascii: "H") && p[s + 1] == UInt8(ascii: "E") && p[s + 2] == UInt8(ascii: "A") && p[s + 3] == UInt8(ascii: "D")
        guard p[e - 9] == 0x20, let minor = version(p, e - 8) else { return "the request line is not 'METHOD target HTTP/1.x'" }
        head.http10 = minor == 0
        return nil
    }

    private mutating func statusLine(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> String? {
        guard e - s >= 12, let minor = version(p, s), p[s + 8] == 0x20, let code = HTTPScan.decimal(p, s + 9, s + 12) else {
            return "the status line is not 'HTTP/1.x NNN reason'"
        }
        head.http10 = minor == 0
        head.status = code
        return nil
    }

    /// The minor version of `HTTP/1.x` at `at`.
    private func version(_ p: UnsafeRawBufferPointer, _ at: Int) -> Int? {
        guard p[at] == UInt8(ascii: "H"), p[at + 1] == UInt8(ascii: "T"), p[at + 2] == UInt8(ascii: "T"), p[at + 3] == UInt8(ascii: "P"),
              p[at + 4] == UInt8(ascii: "/"), p[at + 5] == UInt8(ascii: "1"), p[at + 6] == UInt8(ascii: ".") else { return nil }
        let minor = Int(p[at + 7]) - 48
        return minor == 0 || minor == 1 ? minor : nil
    }

    private mutating func note(_ kind: Kind, _ p: UnsafeRawBufferPointer, _ vs: Int, _ ve: Int, index: Int, request: Bool) -> String? {
        switch kind {
        case .contentLength:
            guard let n = HTTPScan.decimal(p, vs, ve) else { return "Content-Length is not a number" }
            if let seen = head.contentLength, seen != n { return "two different Content-Length values" }
            head.contentLength = n
        case .transferEncoding:
            head.transferEncoding = true
            if let last = HTTPScan.lastToken(p, vs, ve) { head.chunked = HTTPScan.equals(p, last.lowerBound, last.upperBound, "chunked") }
        case .connection:
            HTTPScan.forEachToken(p, vs, ve) { a, b in
                if HTTPScan.equals(p, a, b, "close") { head.connectionClose = true }
                else if HTTPScan.equals(p, a, b, "keep-alive") { head.connectionKeepAlive = true }
                else if HTTPScan.equals(p, a, b, "upgrade") { head.connectionUpgrade = true }
                else { head.connectionOthers = true }
                return true
            }
        case .upgrade:
            head.upgrade = true
            head.hopLines += 1
        case .host: head.host = index
        case .forwardedFor: head.forwardedFor = true
        case .forwardedProto: head.forwardedProto = true
        case .forwardedHost: head.forwardedHost = true
        case .requestId: head.requestId = index
        case .keepAlive, .hop: head.hopLines += 1
        case .other: break
        }
        return nil
    }

    static func kind(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Kind {
        switch e - s {
        case 2: return HTTPScan.equals(p, s, e, "te") ? .hop : .other
        case 4: return HTTPScan.equals(p, s, e, "host") ? .host : .other
        case 7:
            if HTTPScan.equals(p, s, e, "upgrade") { return .upgrade }
            return HTTPScan.equals(p, s, e, "trailer") ? .hop : .other
        case 10:
            if HTTPScan.equals(p, s, e, "connection") { return .connection }
            return HTTPScan.equals(p, s, e, "keep-alive") ? .keepAlive : .other
        case 12: return HTTPScan.equals(p, s, e, "x-request-id") ? .requestId : .other
        case 14: return HTTPScan.equals(p, s, e, "content-length") ? .contentLength : .other
        case 15: return HTTPScan.equals(p, s, e, "x-forwarded-for") ? .forwardedFor : .other
        case 16:
            if HTTPScan.equals(p, s, e, "x-forwarded-host") { return .forwardedHost }
            return HTTPScan.equals(p, s, e, "proxy-connection") ? .hop : .other
        case 17:
            if HTTPScan.equals(p, s, e, "transfer-encoding") { return .transferEncoding }
            return HTTPScan.equals(p, s, e, "x-forwarded-proto") ? .forwardedProto : .other
        case 18: return HTTPScan.equals(p, s, e, "proxy-authenticate") ? .hop : .other
        case 19: return HTTPScan.equals(p, s, e, "proxy-authorization") ? .hop : .other
        default: return .other
        }
    }
}
