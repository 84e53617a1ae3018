import Foundation
@testable import SlipwayRuntime
import Testing

/// The ports the daemon gives its instances (and drills, and the tests their listeners) come from below the
/// kernel's ephemeral range, where no outgoing connection on the host can take one before the instance binds it,
/// and never twice in a row.
struct PortAllocatorTests {
    @Test
    func portsComeFromBelowTheEphemeralRangeAndNeverRepeat() throws {
        let low = try #require(PortAllocator.ephemeralLow())
        #expect(PortAllocator.dynamic.upperBound < low && PortAllocator.dynamic.count > 1000, "\(PortAllocator.dynamic) against \(low)")
        var seen = Set<Int>()
        for _ in 0..<300 {
            let port = try PortAllocator.freePort()
            #expect(PortAllocator.dynamic.contains(port) && port < low, "\(port)")
            #expect(seen.insert(port).inserted, "\(port) handed out twice")
        }
    }
}
