import Foundation
import SlipwayCore
import Testing

/// `slipway init`'s file: accepted by the config loader as written, for every kind of project it recognises.
@Suite struct InitTemplateTests {
    @Test(arguments: InitTemplate.Kind.allCases)
    func theWrittenConfigIsValidAsItIs(_ kind: InitTemplate.Kind) throws {
        let cfg = try ConfigLoader.parse(yaml: InitTemplate.render(kind: kind, app: "shop"), file: "slipway.yml", directory: "/srv/shop")
        let env = try cfg.environment(nil)
        #expect(cfg.app == "shop" && env.process.command.contains("$PORT") && env.process.instances == 2 && env.strategy == .blueGreen)
        #expect((kind == .swift || kind == .go || kind == .rust) == (cfg.release.build != nil))
    }

    @Test func theAppIsNamedAfterTheDirectory() {
        #expect(InitTemplate.appName("/srv/My Shop_2") == "my-shop-2")
        #expect(InitTemplate.appName("/srv/---") == "app")
    }

    @Test func theProjectKindComesFromItsFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("init-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(InitTemplate.Kind.detect(in: dir) == .other)
        _ = FileManager.default.createFile(atPath: dir + "/go.mod", contents: Data("module shop\n".utf8))
        #expect(InitTemplate.Kind.detect(in: dir) == .go)
        _ = FileManager.default.createFile(atPath: dir + "/Package.swift", contents: Data())
        #expect(InitTemplate.Kind.detect(in: dir) == .swift)
    }
}
