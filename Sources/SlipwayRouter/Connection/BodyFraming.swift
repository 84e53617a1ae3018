import NIOCore

/// Where a message body ends, found by counting (`Content-Length`) or by scanning the chunk sizes of a
/// chunked body, never by decoding it: the bytes go on unchanged.
struct BodyFraming {
    enum Mode: Equatable { case none, length, chunked, untilClose }

    private enum Chunk { case size, ext, sizeLF, data, dataCR, dataLF, trailerStart, trailer, finalLF }

    struct Malformed: Error {}

    let mode: Mode
    private(set) var done: Bool
    /// Content-Length: bytes still to come. Chunked: the size being read, then the bytes left of the chunk.
    private var remaining: Int
    private var chunk = Chunk.size
    private var digits = 0

    init(_ mode: Mode, length: Int = 0) {
        self.mode = mode == .length && length == 0 ? .none : mode
        remaining = length
        done = self.mode == .none
    }

    static let empty = BodyFraming(.none)

    /// How many of `buffer`'s readable bytes belong to the body (all of them until it ends); `done` is set
    /// when the body ends within them. Throws on a malformed chunked body.
    mutating func advance(_ buffer: ByteBuffer) throws(Malformed) -> Int {
        let n = buffer.readableBytes
        switch mode {
        case .none:
            return 0
        case .untilClose:
            return n
        case .length:
            let take = min(n, remaining)
            remaining -= take
            if remaining == 0 { done = true }
            return take
        case .chunked:
            let result = buffer.withUnsafeReadableBytes { scanChunks($0) }
            guard let used = result else { throw Malformed() }
            return used
        }
    }

    /// Runs the chunk state machine over `p`; the bytes used, or nil when the body is malformed.
    private mutating func scanChunks(_ p: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        let n = p.count
        while i < n && !done {
            let c = p[i]
            switch chunk {
            case .size:
                if let h = Self.hex(c) {
                    guard digits < 15 else { return nil }
                    remaining = remaining << 4 | h
                    digits += 1
                } else if digits > 0 && (c == UInt8(ascii: ";") || HTTPScan.isSpace(c)) {
                    chunk = .ext
                } else if digits > 0 && c == 0x0D {
                    chunk = .sizeLF
                } else if digits > 0 && c == 0x0A {
                    sizeLineEnded()
                } else {
                    return nil
                }
                i += 1
            case .ext:
                if c == 0x0A { sizeLineEnded() }
                i += 1
            case .sizeLF:
                guard c == 0x0A else { return nil }
                sizeLineEnded()
                i += 1
            case .data:
                let take = min(remaining, n - i)
                remaining -= take
                i += take
                if remaining == 0 { chunk = .dataCR }
            case .dataCR:
                if c == 0x0D { chunk = .dataLF } else if c == 0x0A { chunk = .size } else { return nil }
                i += 1
            case .dataLF:
                guard c == 0x0A else { return nil }
                chunk = .size
                i += 1
            case .trailerStart:
                if c == 0x0D { chunk = .finalLF } else if c == 0x0A { done = true } else { chunk = .trailer }
                i += 1
            case .trailer:
                if c == 0x0A { chunk = .trailerStart }
                i += 1
            case .finalLF:
                guard c == 0x0A else { return nil }
                done = true
                i += 1
            }
        }
        return i
    }

    private mutating func sizeLineEnded() {
        digits = 0
        chunk = remaining == 0 ? .trailerStart : .data
    }

    @inline(__always)
    private static func hex(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: return Int(c - 48)
        case 65...70: return Int(c - 55)
        case 97...102: return Int(c - 87)
        default: return nil
        }
    }
}
