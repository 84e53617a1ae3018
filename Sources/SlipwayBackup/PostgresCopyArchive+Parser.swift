import SlipwayCore

extension PostgresCopyArchive {
    /// Reads a `copy` archive as it streams, in chunks cut anywhere: each frame's payload comes out as one or more
    /// pieces (ranges of the chunk fed). Throws on anything that is not such an archive, or on bytes after its end.
    struct Parser: Sendable {
        struct Piece: Sendable, Equatable {
            var kind: Kind
            var index: UInt32
            var range: Range<Int>
        }

        private var magicSeen = 0
        private var header: [UInt8] = []
        private var kind = Kind.end
        private var index: UInt32 = 0
        private var remaining = 0
        private(set) var ended = false

        /// The pieces of payload in `bytes` (an empty payload gives an empty piece, so every frame is seen).
        mutating func feed(_ bytes: [UInt8]) throws(SlipwayError) -> [Piece] {
            var out: [Piece] = []
            var i = 0
            while i < bytes.count {
                if ended { throw SlipwayError(.failed, "the PostgreSQL archive goes on after its end mark: it is damaged") }
                if magicSeen < magic.count {
                    guard bytes[i] == magic[magicSeen] else {
                        throw SlipwayError(.failed, "not a Slipway PostgreSQL archive (format copy): it does not start with SLIPWAY-PGCOPY")
                    }
                    magicSeen += 1
                    i += 1
                    continue
                }
                if remaining > 0 {
                    let n = min(remaining, bytes.count - i)
                    out.append(Piece(kind: kind, index: index, range: i..<(i + n)))
                    remaining -= n
                    i += n
                    continue
                }
                header.append(bytes[i])
                i += 1
                guard header.count == headerSize else { continue }
                guard let k = Kind(rawValue: header[0]) else {
                    throw SlipwayError(.failed, "the PostgreSQL archive holds a frame of unknown kind \(header[0]): it is damaged or from a newer Slipway")
                }
                kind = k
                index = header[1...4].reduce(0) { $0 << 8 | UInt32($1) }
                remaining = Int(header[5...8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                header.removeAll(keepingCapacity: true)
                if k == .end { ended = true }
                if remaining == 0 { out.append(Piece(kind: kind, index: index, range: i..<i)) }
            }
            return out
        }

        /// Throws unless the archive ended with its end mark.
        func finish() throws(SlipwayError) {
            guard ended else { throw SlipwayError(.failed, "the PostgreSQL archive ends before its end mark: it was cut short") }
        }
    }
}
