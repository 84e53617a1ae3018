import SlipwayCore
import Testing

/// The one hex codec: checksums, webhook signatures and backup keys go through it.
struct HexTests {
    @Test func hexRoundTripsAndRefusesWhatIsNotHex() {
        let bytes: [UInt8] = [0x00, 0x0f, 0xa5, 0xff, 0x10]
        #expect(Hex.string(bytes) == "000fa5ff10")
        #expect(Hex.bytes("000fa5ff10") == bytes && Hex.bytes("000FA5FF10") == bytes)
        #expect(Hex.bytes("abc") == nil, "an odd number of digits")
        #expect(Hex.bytes("0g") == nil && Hex.bytes("+f") == nil && Hex.bytes(" f") == nil, "only hex digits")
        #expect(Hex.bytes("") == [])
        let a = Hex.random(bytes: 16), b = Hex.random(bytes: 16)
        #expect(a.count == 32 && Hex.bytes(a)?.count == 16 && a != b)
    }
}
