/// Byte-level helpers for the router's HTTP/1 scanner, which looks only at what routing and framing need.
enum HTTPScan {
    @inline(__always)
    static func lower(_ c: UInt8) -> UInt8 { c &- 65 < 26 ? c | 0x20 : c }

    /// Whether `p[start..<end]` equals the lowercase ASCII `literal`, ignoring case.
    @inline(__always)
    static func equals(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard end - start == n else { return false }
        let l = literal.utf8Start
        var i = 0
        while i < n {
            if lower(p[start + i]) != l[i] { return false }
            i += 1
        }
        return true
    }

    /// Whether two byte ranges of `p` are equal ignoring case.
    static func equals(_ p: UnsafeRawBufferPointer, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where lower(p[a.lowerBound + i]) != lower(p[b.lowerBound + i]) { return false }
        return true
    }

    @inline(__always)
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

    /// RFC 9110 `tchar`: the bytes a token (a header name, a method) may hold.
    @inline(__always)
    static func isTokenByte(_ c: UInt8) -> Bool { tokenBytes[Int(c)] }

    static let tokenBytes: [Bool] = (0..<256).map { c in
        switch UInt8(c) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(UInt8(c))
        }
    }

    /// Calls `body` with each comma-separated token of `p[start..<end]`, trimmed (stops when it returns false).
    static func forEachToken(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ body: (Int, Int) -> Bool) {
        var s = start
        while s < end {
            var e = s
            while e < end && p[e] != UInt8(ascii: ",") { e += 1 }
            var a = s, b = e
            while a < b && isSpace(p[a]) { a += 1 }
            while b > a && isSpace(p[b - 1]) { b -= 1 }
            if a < b, !body(a, b) { return }
            s = e + 1
        }
    }

    /// The last token of the list in `p[start..<end]`.
    static func lastToken(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Range<Int>? {
        var last: Range<Int>?
        forEachToken(p, start, end) { a, b in
            last = a..<b
            return true
        }
        return last
    }

    /// A non-negative decimal, or nil when the bytes are anything else (or it would overflow).
    static func decimal(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        guard start < end, end - start <= 18 else { return nil }
        var n = 0
        for i in start..<end {
            let d = p[i] &- 48
            guard d < 10 else { return nil }
            n = n * 10 + Int(d)
        }
        return n
    }

    /// The first `\n` at or after `from`, before `end`.
    @inline(__always)
    static func newline(_ p: UnsafeRawBufferPointer, from: Int, end: Int) -> Int? {
        guard from < end, let base = p.baseAddress else { return nil }
        guard let hit = memchr(base + from, 0x0A, end - from) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
