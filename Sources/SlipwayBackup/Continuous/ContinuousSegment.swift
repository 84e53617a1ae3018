import Crypto
import Foundation
import SlipwayCore

/// What a continuous archive keeps per shipment: the committed transactions read since the last one, each with the
/// moment it was seen committed. `SLWSEG1\n`, the page size (u32), then per transaction its time (u64 ms since 1970),
/// the database's size in pages after it (u32), its page count (u32) and the pages (u32 number, then the page), and
/// last the SHA-256 of everything before it; integers big-endian.
public struct ContinuousSegment: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var time: Date
        public var transaction: WALFile.Transaction
        public init(time: Date, transaction: WALFile.Transaction) {
            self.time = time
            self.transaction = transaction
        }
    }

    static let magic = Array("SLWSEG1\n".utf8)
    public var pageSize: Int
    public var entries: [Entry]

    public init(pageSize: Int, entries: [Entry]) {
        self.pageSize = pageSize
        self.entries = entries
    }

    public var first: Date? { entries.first?.time }
    public var last: Date? { entries.last?.time }

    public func encoded() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(64 + entries.reduce(0) { $0 + 16 + $1.transaction.pages.count * (4 + pageSize) })
        Self.put32(&out, UInt32(pageSize))
        for e in entries {
            let ms = UInt64(max(0, (e.time.timeIntervalSince1970 * 1000).rounded()))
            Self.put32(&out, UInt32(ms >> 32))
            Self.put32(&out, UInt32(ms & 0xffff_ffff))
            Self.put32(&out, e.transaction.databasePages)
            Self.put32(&out, UInt32(e.transaction.pages.count))
            for p in e.transaction.pages {
                Self.put32(&out, p.number)
                out += p.data
            }
        }
        out += Array(SHA256.hash(data: out))
        return out
    }

    /// The segment in `bytes`; nil when it is not one or its checksum does not match (a damaged copy).
    public static func decode(_ bytes: [UInt8]) -> ContinuousSegment? {
        guard bytes.count >= magic.count + 4 + 32, Array(bytes[0..<magic.count]) == magic else { return nil }
        let body = bytes[0..<(bytes.count - 32)]
        guard Array(SHA256.hash(data: body)) == Array(bytes[(bytes.count - 32)...]) else { return nil }
        var at = magic.count
        func next() -> UInt32? {
            guard at + 4 <= body.count else { return nil }
            defer { at += 4 }
            return WALFile.be32(body, at)
        }
        guard let pageSize = next().map(Int.init), pageSize >= 512 else { return nil }
        var entries: [Entry] = []
        while at < body.count {
            guard let hi = next(), let lo = next(), let size = next(), let count = next() else { return nil }
            var pages: [(number: UInt32, data: [UInt8])] = []
            for _ in 0..<count {
                guard let number = next(), at + pageSize <= body.count else { return nil }
                pages.append((number, Array(body[at..<(at + pageSize)])))
                at += pageSize
            }
            let ms = UInt64(hi) << 32 | UInt64(lo)
            entries.append(Entry(time: Date(timeIntervalSince1970: Double(ms) / 1000), transaction: WALFile.Transaction(pages: pages, databasePages: size)))
        }
        return ContinuousSegment(pageSize: pageSize, entries: entries)
    }

    static func put32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }
}
