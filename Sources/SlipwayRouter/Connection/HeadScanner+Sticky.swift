import SlipwayCore

/// Sticky routing while a canary serves beside the stable release (`canary.sticky`).
extension HeadScanner {
    /// The client's sticky value in the head just scanned: its cookie's value, or its header's.
    func stickyValue(_ p: UnsafeRawBufferPointer, _ listener: RouteSnapshot.CompiledListener) -> String? {
        guard let sticky = listener.sticky else { return nil }
        let name = listener.stickyName
        for line in lines {
            switch sticky {
            case .header:
                guard line.nameEnd - line.start == name.count else { continue }
                var same = true
                for i in 0..<name.count where HTTPScan.lower(p[line.start + i]) != name[i] { same = false; break }
                if same { return Self.text(p, line.valueStart, line.valueEnd) }
            case .cookie:
                guard HTTPScan.equals(p, line.start, line.nameEnd, "cookie") else { continue }
                // `a=1; slipway-canary=v2; b=3`: names are case-sensitive.
                var i = line.valueStart
                while i < line.valueEnd {
                    while i < line.valueEnd, p[i] == UInt8(ascii: " ") || p[i] == UInt8(ascii: ";") { i += 1 }
                    let start = i
                    while i < line.valueEnd, p[i] != UInt8(ascii: ";") { i += 1 }
                    let end = i
                    guard end - start > name.count, p[start + name.count] == UInt8(ascii: "=") else { continue }
                    var same = true
                    for k in 0..<name.count where p[start + k] != name[k] { same = false; break }
                    if same { return Self.text(p, start + name.count + 1, end) }
                }
            }
        }
        return nil
    }

    private static func text(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> String {
        var end = e
        while end > s, HTTPScan.isSpace(p[end - 1]) { end -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: p[s..<end]), as: UTF8.self)
    }
}
