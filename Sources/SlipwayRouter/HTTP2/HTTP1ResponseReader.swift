import Foundation
import NIOCore
import NIOHPACK

/// Reads an HTTP/1.1 response from bytes as they come, into response parts: the head as an HTTP/2 header
/// block (`:status` first, names in lowercase, 1xx answers and hop-by-hop headers left out), the body
/// without its framing (`Content-Length`, chunked, or up to the close), and the end. A value; no I/O.
struct HTTP1ResponseReader {
    enum Part {
        case head(HPACKHeaders)
        case body(ByteBuffer)
        case end

        var isEnd: Bool { if case .end = self { true } else { false } }
    }

    enum Body: Equatable {
        case head
        case length(Int)
        /// Chunked: the size line next, or `remaining` bytes of a chunk (then its CR LF), or the trailer lines.
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    var state = Body.head
    var isHEAD = false
    private var buffered = ByteBuffer()

    /// The parts `bytes` complete.
    mutating func read(_ bytes: inout ByteBuffer) -> [Part] {
        buffered.writeBuffer(&bytes)
        var parts: [Part] = []
        loop: while true {
            switch state {
            case .done:
                buffered.clear()
                break loop
            case .head:
                guard let (head, mode) = readHead() else { break loop }
                guard let head else { continue }  // an interim answer
                parts.append(.head(head))
                state = mode
                if mode == .done { parts.append(.end) }
            case .length(let left):
                guard buffered.readableBytes > 0 else { break loop }
                let n = min(left, buffered.readableBytes)
                parts.append(.body(buffered.readSlice(length: n)!))
                if n == left {
                    state = .done
                    parts.append(.end)
                } else {
                    state = .length(left - n)
                }
            case .untilClose:
                guard buffered.readableBytes > 0 else { break loop }
                parts.append(.body(buffered.readSlice(length: buffered.readableBytes)!))
            case .chunkSize:
                guard let line = readLine() else { break loop }
                let size = Int(line.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffered.readableBytes > 0 else { break loop }
                let n = min(remaining, buffered.readableBytes)
                parts.append(.body(buffered.readSlice(length: n)!))
                state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            case .chunkDataEnd:
                guard readLine() != nil else { break loop }
                state = .chunkSize
            case .trailers:
                guard let line = readLine() else { break loop }
                if line.isEmpty {
                    state = .done
                    parts.append(.end)
                }
            }
        }
        if buffered.readerIndex > 4096 { buffered.discardReadBytes() }
        return parts
    }

    /// The connection closed: the end of a body that runs up to the close (nil when none is open).
    mutating func closed() -> Part? {
        guard state == .untilClose else { return nil }
        state = .done
        return .end
    }

    /// The offset of `pattern` (CR LF, or CR LF CR LF) in the readable bytes; nil when not there yet.
    static func find(_ bytes: UnsafeRawBufferPointer, crlfs: Int) -> Int? {
        let need = crlfs * 2
        guard bytes.count >= need else { return nil }
        var i = 0
        while i + need <= bytes.count {
            if bytes[i] == 13 {
                var ok = true
                for k in 0..<need where bytes[i + k] != (k % 2 == 0 ? 13 : 10) {
                    ok = false
                    break
                }
                if ok { return i }
            }
            i += 1
        }
        return nil
    }

    /// Whether `bytes` spell `lower` (ASCII, lowercase) ignoring case.
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer.SubSequence, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        return lower.withUTF8Buffer { want in
            var i = bytes.startIndex
            for w in want {
                let b = bytes[i]
                if HTTPScan.lower(b) != w { return false }
                i += 1
            }
            return true
        }
    }

    private mutating func readLine() -> String? {
        guard let length = buffered.withUnsafeReadableBytes({ Self.find($0, crlfs: 1) }) else { return nil }
        let line = buffered.readString(length: length) ?? ""
        buffered.moveReaderIndex(forwardBy: 2)
        return line
    }

    /// A complete head: nil while incomplete; `(nil, .head)` for an interim (1xx) answer, consumed. Scanned as
    /// bytes: only the headers passed on become strings.
    private mutating func readHead() -> (HPACKHeaders?, Body)? {
        guard let end = buffered.withUnsafeReadableBytes({ Self.find($0, crlfs: 2) }) else { return nil }
        let isHEAD = self.isHEAD
        let parsed = buffered.withUnsafeReadableBytes { all -> (code: Int, headers: HPACKHeaders, length: Int?, chunked: Bool) in
            let bytes = UnsafeRawBufferPointer(rebasing: all[0..<end + 2])
            var code = 502
            var headers = HPACKHeaders()
            headers.reserveCapacity(8)
            var length: Int?
            var chunked = false
            var lineStart = 0
            var first = true
            var i = 0
            while i + 1 < bytes.count {
                guard bytes[i] == 13, bytes[i + 1] == 10 else {
                    i += 1
                    continue
                }
                let line = bytes[lineStart..<i]
                lineStart = i + 2
                i += 2
                if first {
                    first = false
                    // "HTTP/1.1 200 OK": the three digits after the first space.
                    if let space = line.firstIndex(of: 32), space + 3 < line.endIndex {
                        let d = line[(space + 1)...(space + 3)]
                        if d.allSatisfy({ $0 >= 48 && $0 <= 57 }) { code = d.reduce(0) { $0 * 10 + Int($1 - 48) } }
                    }
                    headers.add(name: ":status", value: Self.statusText(code))
                    continue
                }
                guard let colon = line.firstIndex(of: 58) else { continue }
                let name = line[line.startIndex..<colon]
                var v = colon + 1, e = line.endIndex
                while v < e, line[v] == 32 || line[v] == 9 { v += 1 }
                while e > v, line[e - 1] == 32 || line[e - 1] == 9 { e -= 1 }
                let value = line[v..<e]
                if Self.equalsIgnoringCase(name, "content-length") {
                    length = value.isEmpty || !value.allSatisfy({ $0 >= 48 && $0 <= 57 }) || value.count > 18 ? nil : value.reduce(0) { $0 * 10 + Int($1 - 48) }
                }
                if Self.equalsIgnoringCase(name, "transfer-encoding") {
                    chunked = String(decoding: UnsafeRawBufferPointer(rebasing: value), as: UTF8.self).lowercased().contains("chunked")
                    continue
                }
                if Self.hopByHop(name) { continue }
                headers.add(name: Self.lowercased(name), value: String(decoding: UnsafeRawBufferPointer(rebasing: value), as: UTF8.self))
            }
            return (code, headers, length, chunked)
        }
        buffered.moveReaderIndex(forwardBy: end + 4)
        if parsed.code >= 100 && parsed.code < 200 { return (nil, .head) }
        let head = parsed.headers
        if isHEAD || parsed.code == 204 || parsed.code == 304 { return (head, .done) }
        if parsed.chunked { return (head, .chunkSize) }
        if let length = parsed.length { return (head, length == 0 ? .done : .length(length)) }
        return (head, .untilClose)
    }

    /// A header name as HTTP/2 carries it: ASCII letters in lowercase (RFC 9113 §8.2.1).
    static func lowercased(_ name: UnsafeRawBufferPointer.SubSequence) -> String {
        if !name.contains(where: { HTTPScan.lower($0) != $0 }) { return String(decoding: UnsafeRawBufferPointer(rebasing: name), as: UTF8.self) }
        return String(unsafeUninitializedCapacity: name.count) { out in
            for (i, b) in name.enumerated() { out[i] = HTTPScan.lower(b) }
            return name.count
        }
    }

    /// `:status`'s value; the usual codes without formatting a number.
    static func statusText(_ code: Int) -> String {
        switch code {
        case 200: "200"
        case 204: "204"
        case 301: "301"
        case 302: "302"
        case 304: "304"
        case 404: "404"
        default: String(code)
        }
    }

    /// Connection-specific headers HTTP/2 does not carry (RFC 9113 §8.2.2), by their bytes.
    static func hopByHop(_ name: UnsafeRawBufferPointer.SubSequence) -> Bool {
        switch name.count {
        case 2: equalsIgnoringCase(name, "te")
        case 7: equalsIgnoringCase(name, "upgrade") || equalsIgnoringCase(name, "trailer")
        case 10: equalsIgnoringCase(name, "connection") || equalsIgnoringCase(name, "keep-alive")
        case 16: equalsIgnoringCase(name, "proxy-connection")
        case 17: equalsIgnoringCase(name, "transfer-encoding")
        default: false
        }
    }
}
