import NIOCore
import SlipwayCore

/// Writing a scanned head on to the other side: the start line and the end-to-end headers are copied
/// byte for byte; hop-by-hop headers are dropped and the proxy's own are spliced in. Each head is
/// assembled in one reserved stretch of its buffer.
extension HeadScanner {
    /// The most bytes `writeRequest` adds to a head.
    func requestGrowth(clientIP: [UInt8]) -> Int {
        let host = head.host.map { lines[$0].valueEnd - lines[$0].valueStart } ?? 0
        return 2 * clientIP.count + host + RequestID.prefixBytes.count + 192
    }

    /// The request head as it goes to an instance: hop-by-hop headers dropped (kept for an upgrade, which
    /// the instance must see), and the listener's own headers (`X-Forwarded-*`, `X-Request-Id`) added.
    func writeRequest(_ p: UnsafeRawBufferPointer, into out: inout ByteBuffer, clientIP: [UInt8], requestNumber: UInt64,
                      adds: ListenerTable.RequestHeaders = .all, strip: Int = 0) {
        let capacity = head.length + requestGrowth(clientIP: clientIP)
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { dst in
            var w = RawWriter(dst)
            writeRequest(p, &w, clientIP: clientIP, requestNumber: requestNumber, adds: adds, strip: strip)
            return w.count
        }
    }

    private func writeRequest(_ p: UnsafeRawBufferPointer, _ w: inout RawWriter, clientIP: [UInt8], requestNumber: UInt64,
                              adds: ListenerTable.RequestHeaders, strip: Int) {
        if strip > 0, let space = targetStart(p) {
            // A route's path prefix taken off: `GET /api/orders` → `GET /orders`, `GET /api?x` → `GET /?x`.
            w.put(p, head.start, space)
            let rest = space + strip
            if rest >= head.startLineEnd || p[rest] != UInt8(ascii: "/") { w.put("/") }
            w.put(p, rest, head.startLineEnd)
        } else {
            w.put(p, head.start, head.startLineEnd)
        }
        w.put("\r\n")
        let upgrading = head.wantsUpgrade
        let forwarding = adds.contains(.forwarded)
        // Over TLS the router says the scheme itself: a client's own X-Forwarded-Proto is dropped.
        let https = forwarding && adds.contains(.https)
        var forwardedFor = false
        for line in lines {
            switch line.kind {
            case .connection, .keepAlive, .hop: continue
            case .upgrade where !upgrading: continue
            case .forwardedFor where forwarding:
                // Every X-Forwarded-For line folds into one, with the client's address last.
                if !forwardedFor {
                    forwardedFor = true
                    w.put("x-forwarded-for: ")
                    for l in lines where l.kind == .forwardedFor {
                        w.put(p, l.valueStart, l.valueEnd)
                        w.put(", ")
                    }
                    w.put(clientIP)
                    w.put("\r\n")
                }
                continue
            case .other where head.connectionOthers && listedInConnection(p, line):
                continue
            case .forwardedProto where https:
                continue
            default: break
            }
            w.put(p, line.start, line.valueEnd)
            w.put("\r\n")
        }
        if forwarding {
            if !head.forwardedFor {
                w.put("x-forwarded-for: ")
                w.put(clientIP)
                w.put("\r\n")
            }
            if https { w.put("x-forwarded-proto: https\r\n") } else if !head.forwardedProto { w.put("x-forwarded-proto: http\r\n") }
            if !head.forwardedHost, let host = head.host {
                w.put("x-forwarded-host: ")
                w.put(p, lines[host].valueStart, lines[host].valueEnd)
                w.put("\r\n")
            }
        }
        if head.requestId == nil && adds.contains(.requestId) {
            w.put("x-request-id: ")
            w.put(RequestID.prefixBytes)
            w.put("-")
            w.hex(requestNumber)
            w.put("\r\n")
        }
        if upgrading { w.put("connection: upgrade\r\n") }
        w.put("\r\n")
    }

    /// The response head as it goes to the client, with the client connection's own `Connection` header.
    /// `extra` is a header line (with its CR LF) the router adds, such as a sticky `Set-Cookie`.
    func writeResponse(_ p: UnsafeRawBufferPointer, into out: inout ByteBuffer, clientKeepAlive: Bool, clientHTTP10: Bool, extra: String? = nil) {
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: head.length + 32 + (extra?.utf8.count ?? 0)) { dst in
            var w = RawWriter(dst)
            if head.http10 {
                // An intermediary answers with its own version (RFC 9110 §6.2): an HTTP/1.0 instance's
                // response must not make a keep-alive client close its connection.
                w.put("HTTP/1.1")
                w.put(p, head.start + 8, head.startLineEnd)
            } else {
                w.put(p, head.start, head.startLineEnd)
            }
            w.put("\r\n")
            let switching = head.status == 101
            for line in lines {
                switch line.kind {
                case .connection, .keepAlive, .hop: continue
                case .upgrade where !switching: continue
                case .contentLength where head.transferEncoding: continue
                case .other where head.connectionOthers && listedInConnection(p, line): continue
                default:
                    w.put(p, line.start, line.valueEnd)
                    w.put("\r\n")
                }
            }
            if let extra { w.put(Array(extra.utf8)) }
            if switching {
                w.put("connection: upgrade\r\n")
            } else if !clientKeepAlive {
                w.put("connection: close\r\n")
            } else if clientHTTP10 {
                w.put("connection: keep-alive\r\n")
            }
            w.put("\r\n")
            return w.count
        }
    }

    /// Whether `line`'s name is one the `Connection` header lists (and so hop-by-hop).
    private func listedInConnection(_ p: UnsafeRawBufferPointer, _ line: Line) -> Bool {
        var listed = false
        for c in lines where c.kind == .connection {
            HTTPScan.forEachToken(p, c.valueStart, c.valueEnd) { a, b in
                listed = HTTPScan.equals(p, a..<b, line.start..<line.nameEnd)
                return !listed
            }
            if listed { return true }
        }
        return false
    }

    /// Where the request line's target begins (after the method and its space).
    func targetStart(_ p: UnsafeRawBufferPointer) -> Int? {
        var i = head.start
        while i < head.startLineEnd, p[i] != UInt8(ascii: " ") { i += 1 }
        return i < head.startLineEnd ? i + 1 : nil
    }

    /// The request's target (`/api/orders?page=2`), as routes match it.
    func target(_ p: UnsafeRawBufferPointer) -> String {
        guard let s = targetStart(p) else { return "" }
        var e = s
        while e < head.startLineEnd, p[e] != UInt8(ascii: " ") { e += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: p[s..<e]), as: UTF8.self)
    }

    /// The value of line `index`, as a string (for the few values the router keeps).
    func value(_ p: UnsafeRawBufferPointer, _ index: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: p[lines[index].valueStart..<lines[index].valueEnd]), as: UTF8.self)
    }
}
