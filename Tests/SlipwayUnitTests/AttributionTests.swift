import Foundation
import SlipwayCore
import Testing

/// The attribution envelope keeps the wire format of every request: its three fields sit beside the body's.
@Suite struct AttributionTests {
    static func object(_ value: some Encodable) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: SlipwayJSON.encoder().encode(value)) as? [String: Any])
    }

    @Test func aRequestIsOneFlatJSONObjectAsBefore() throws {
        var request = DeployRequest(version: "v2", environment: "production", strategy: .canary, kind: .deploy, actor: "ana", withData: nil)
        request.reason = "release train"
        let json = try Self.object(request)
        #expect(Set(json.keys) == ["version", "environment", "strategy", "kind", "actor", "reason"], "\(json)")
        #expect(json["actor"] as? String == "ana" && json["version"] as? String == "v2" && json["strategy"] as? String == "canary")

        let attributed = request.attributed(to: Principal(name: "root", uid: 0, via: .socket))
        let after = try Self.object(attributed)
        #expect(after["actor"] as? String == "root" && after["on_behalf_of"] as? String == "ana" && after["uid"] as? Int == 0, "\(after)")
        #expect(after["version"] as? String == "v2" && after["reason"] as? String == "release train")
    }

    @Test func aRequestAsClientsSendItDecodes() throws {
        let text = #"{"environment":"staging","action":"pause","limit":"30s","retry_after":"10s","actor":"ops"}"#
        let request = try SlipwayJSON.decoder().decode(MaintenanceRequest.self, from: Data(text.utf8))
        #expect(request.environment == "staging" && request.action == MaintenanceRequest.Action.pause)
        #expect(request.limit == "30s" && request.retryAfter == "10s")
        #expect(request.actor == "ops" && request.onBehalfOf == nil && request.uid == nil)
        #expect(request.by.name == "ops" && request.by.via == .daemon)

        let missing = #"{"environment":"staging","action":"pause"}"#
        #expect(throws: DecodingError.self) { try SlipwayJSON.decoder().decode(MaintenanceRequest.self, from: Data(missing.utf8)) }
    }

    @Test func aClaimThatNamesTheVerifiedUserIsNoNote() {
        let request = ScaleRequest(environment: nil, instances: 3, actor: " root ").attributed(to: Principal(name: "root", uid: 0, via: .socket))
        #expect(request.actor == "root" && request.onBehalfOf == nil && request.uid == 0)
        #expect(request.instances == 3)
    }
}
