import Foundation
@testable import SlipwayRuntime
import Testing

/// The supervisor reads /proc/PID/stat for every instance several times a second, with a byte parser.
struct ProcessInspectorTests {
    @Test func aCommandNameWithSpacesAndParenthesesDoesNotShiftTheFields() {
        // A process may name itself anything: `) S 1 2` inside the name must not be taken for fields.
        let text = "4242 (evil) S 1 2 (x)) R 1 77 77 0 -1 4194560 100 0 0 0 250 125 0 0 20 0 1 0 987654 12345678 321 18446744073709551615\n"
        let stat = Array(text.utf8).withUnsafeBufferPointer { ProcessInspector.parse($0) }
        #expect(stat == ProcessInspector.Stat(state: UInt8(ascii: "R"), processGroup: 77, userTicks: 250, systemTicks: 125,
                                              startTime: 987654, residentPages: 321))
        let truncated = Array("4242 (app) S 1 77 77".utf8).withUnsafeBufferPointer { ProcessInspector.parse($0) }
        #expect(truncated == nil)
    }

    @Test func itReadsThisProcessAsProcfsReportsIt() throws {
        let me = getpid()
        let stat = try #require(ProcessInspector.stat(me))
        let text = try String(contentsOfFile: "/proc/\(me)/stat", encoding: .utf8)
        let fields = text[text.index(after: text.lastIndex(of: ")")!)...].split(separator: " ")
        #expect(stat.startTime == UInt64(fields[19]))
        #expect(stat.processGroup == getpgrp())
        #expect(stat.residentBytes > 1 << 20)
        #expect(ProcessInspector.alive(pid: me, startTime: stat.startTime) != nil)
        #expect(ProcessInspector.alive(pid: me, startTime: stat.startTime + 1) == nil, "a reused pid is not the same process")
    }
}
