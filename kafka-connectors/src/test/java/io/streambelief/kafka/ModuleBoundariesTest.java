package io.streambelief.kafka;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/** kafka-connectors serves the job and the model server alike: it knows neither Flink nor either of them. */
class ModuleBoundariesTest {
    private static final JavaClasses KAFKA_CONNECTORS = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.streambelief.kafka");

    @Test
    void kafkaConnectorsUseNeitherFlinkNorTheJobNorTheServer() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "io.streambelief.flink..",
                "io.streambelief.serving..").check(KAFKA_CONNECTORS);
    }

    /** The job jar leaves out the processes module; only the data step, which the job never runs, may use it. */
    @Test
    void onlyTheDataStepFindsTheCheckout() {
        noClasses().that().resideOutsideOfPackage("io.streambelief.kafka.data..")
                .should().dependOnClassesThat().resideInAPackage("io.streambelief.processes..").check(KAFKA_CONNECTORS);
    }

    /** A cycle would make the packages one unit in disguise: none can be understood, tested or moved alone. */
    @Test
    void packagesDependOnEachOtherWithoutCycles() {
        slices().matching("io.streambelief.(**)").should().beFreeOfCycles().check(KAFKA_CONNECTORS);
    }
}
