import Foundation

/// SQLite's write-ahead log as it is on disk (https://www.sqlite.org/fileformat2.html#walformat): a 32-byte header,
/// then frames of a 24-byte header and one page. A frame belongs to the log when its salts are the header's and its
/// checksum continues the chain from the one before; a frame whose commit size is not 0 ends a transaction.
public enum WALFile {
    public static let headerSize = 32
    public static let frameHeaderSize = 24

    public struct Header: Sendable, Equatable, Codable {
        public var pageSize: Int
        public var checkpointSequence: UInt32
        public var salt1: UInt32
        public var salt2: UInt32
        /// The header's own checksum: where the first frame's chain starts.
        public var checksum1: UInt32
        public var checksum2: UInt32
        /// Checksums over big-endian words (magic 0x377f0683) or little-endian ones (0x377f0682).
        public var bigEndianChecksums: Bool

        public var frameSize: Int { WALFile.frameHeaderSize + pageSize }
        public func sameLog(_ other: Header) -> Bool { salt1 == other.salt1 && salt2 == other.salt2 }
    }

    /// One committed transaction: its pages in log order and the database's size in pages after it.
    public struct Transaction: Sendable, Equatable {
        public var pages: [(number: UInt32, data: [UInt8])]
        public var databasePages: UInt32

        public static func == (a: Transaction, b: Transaction) -> Bool {
            a.databasePages == b.databasePages && a.pages.count == b.pages.count && zip(a.pages, b.pages).allSatisfy { $0.number == $1.number && $0.data == $1.data }
        }
    }

    /// Where reading stopped: the byte offset after the last commit read and the checksum chain there.
    public struct Position: Sendable, Equatable, Codable {
        public var offset: Int
        public var checksum1: UInt32
        public var checksum2: UInt32

        public init(offset: Int, checksum1: UInt32, checksum2: UInt32) {
            self.offset = offset
            self.checksum1 = checksum1
            self.checksum2 = checksum2
        }

        /// Before the first frame of the log `header` starts.
        public init(start header: Header) { self.init(offset: WALFile.headerSize, checksum1: header.checksum1, checksum2: header.checksum2) }
    }

    /// The header, when `bytes` (the file's first 32) is a valid one.
    public static func header(_ bytes: [UInt8]) -> Header? {
        guard bytes.count >= headerSize else { return nil }
        let magic = be32(bytes, 0)
        guard magic == 0x377f_0682 || magic == 0x377f_0683, be32(bytes, 4) == 3_007_000 else { return nil }
        let big = magic & 1 == 1
        let (s1, s2) = checksum(bytes[0..<24], bigEndian: big, 0, 0)
        guard s1 == be32(bytes, 24), s2 == be32(bytes, 28) else { return nil }
        let pageSize = Int(be32(bytes, 8))
        guard pageSize >= 512, pageSize <= 65_536, pageSize & (pageSize - 1) == 0 else { return nil }
        return Header(pageSize: pageSize, checkpointSequence: be32(bytes, 12), salt1: be32(bytes, 16), salt2: be32(bytes, 20),
                      checksum1: s1, checksum2: s2, bigEndianChecksums: big)
    }

    /// The committed transactions in `bytes` (the file from `position.offset` on), and the position after the last of
    /// them. Frames after the last commit (a transaction being written) and anything after the first frame that is not
    /// the log's (another salt, a broken chain, a short read) are left for the next read.
    public static func transactions(_ bytes: [UInt8], header: Header, from position: Position) -> ([Transaction], Position) {
        var out: [Transaction] = []
        var committed = position
        var pending: [(UInt32, [UInt8])] = []
        var (s1, s2) = (position.checksum1, position.checksum2)
        var at = 0
        let size = header.frameSize
        while at + size <= bytes.count {
            guard be32(bytes, at + 8) == header.salt1, be32(bytes, at + 12) == header.salt2 else { break }
            (s1, s2) = checksum(bytes[at..<(at + 8)], bigEndian: header.bigEndianChecksums, s1, s2)
            (s1, s2) = checksum(bytes[(at + frameHeaderSize)..<(at + size)], bigEndian: header.bigEndianChecksums, s1, s2)
            guard s1 == be32(bytes, at + 16), s2 == be32(bytes, at + 20) else { break }
            pending.append((be32(bytes, at), Array(bytes[(at + frameHeaderSize)..<(at + size)])))
            at += size
            let commit = be32(bytes, at - size + 4)
            if commit != 0 {
                out.append(Transaction(pages: pending.map { (number: $0.0, data: $0.1) }, databasePages: commit))
                pending = []
                committed = Position(offset: position.offset + at, checksum1: s1, checksum2: s2)
            }
        }
        return (out, committed)
    }

    /// SQLite's WAL checksum: over 8-byte words, each two 32-bit integers in the log's byte order.
    static func checksum(_ data: ArraySlice<UInt8>, bigEndian: Bool, _ a: UInt32, _ b: UInt32) -> (UInt32, UInt32) {
        var s1 = a, s2 = b
        var i = data.startIndex
        while i + 8 <= data.endIndex {
            let x0 = bigEndian ? be32(data, i) : le32(data, i)
            let x1 = bigEndian ? be32(data, i + 4) : le32(data, i + 4)
            s1 = s1 &+ x0 &+ s2
            s2 = s2 &+ x1 &+ s1
            i += 8
        }
        return (s1, s2)
    }

    static func be32<C: RandomAccessCollection>(_ b: C, _ i: C.Index) -> UInt32 where C.Element == UInt8, C.Index == Int {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func le32<C: RandomAccessCollection>(_ b: C, _ i: C.Index) -> UInt32 where C.Element == UInt8, C.Index == Int {
        UInt32(b[i + 3]) << 24 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i])
    }
}
