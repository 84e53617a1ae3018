#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes bytes into memory reserved up front (a `ByteBuffer`'s writable bytes): a head is assembled
/// with plain copies, without a capacity or uniqueness check per piece.
struct RawWriter {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    private(set) var count = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    @inline(__always)
    mutating func put(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int) {
        let n = end - start
        precondition(count + n <= capacity)
        memcpy(base + count, p.baseAddress! + start, n)
        count += n
    }

    @inline(__always)
    mutating func put(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        precondition(count + n <= capacity)
        memcpy(base + count, s.utf8Start, n)
        count += n
    }

    @inline(__always)
    mutating func put(_ bytes: [UInt8]) {
        precondition(count + bytes.count <= capacity)
        _ = bytes.withUnsafeBytes { memcpy(base + count, $0.baseAddress!, $0.count) }
        count += bytes.count
    }

    /// `n` in lowercase hex.
    mutating func hex(_ n: UInt64) {
        var digits = 1
        var rest = n >> 4
        while rest > 0 { digits += 1; rest >>= 4 }
        precondition(count + digits <= capacity)
        var v = n
        for i in stride(from: digits - 1, through: 0, by: -1) {
            let d = UInt8(v & 0xF)
            base.storeBytes(of: d < 10 ? 48 + d : 87 + d, toByteOffset: count + i, as: UInt8.self)
            v >>= 4
        }
        count += digits
    }
}
