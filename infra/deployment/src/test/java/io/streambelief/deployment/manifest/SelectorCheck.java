package io.streambelief.deployment.manifest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;

/**
 * Services, PodDisruptionBudgets and Deployments select the pods they are meant for, and Services
 * send traffic to ports those pods have.
 */
final class SelectorCheck implements Check {

    @Override
    public List<Problem> problemsIn(Manifests manifests) {
        List<Problem> problems = new ArrayList<>();
        List<Deployment> deployments = manifests.ofKind("Deployment").stream().map(m -> m.as(Deployment.class)).toList();
        for (Manifest manifest : manifests.ofKind("Deployment")) {
            Deployment deployment = manifest.as(Deployment.class);
            Map<String, String> selector = deployment.getSpec().getSelector().getMatchLabels();
            if (!selects(selector, deployment)) {
                problems.add(Problem.in(manifest, "selector " + selector + " does not match its own pod labels "
                        + deployment.getSpec().getTemplate().getMetadata().getLabels()));
            }
        }
        for (Manifest manifest : manifests.ofKind("Service")) {
            Service service = manifest.as(Service.class);
            Map<String, String> selector = service.getSpec().getSelector();
            List<Deployment> selected = deployments.stream().filter(deployment -> selects(selector, deployment)).toList();
            if (selected.isEmpty()) {
                problems.add(Problem.in(manifest, "selector " + selector + " matches the pods of no Deployment"));
            }
            for (ServicePort port : service.getSpec().getPorts()) {
                for (Deployment deployment : selected) {
                    if (!hasPort(deployment, port.getTargetPort() == null ? new IntOrString(port.getPort()) : port.getTargetPort())) {
                        problems.add(Problem.in(manifest, "port " + port.getName() + " targets "
                                + port.getTargetPort().getValue() + ", which no container of Deployment/"
                                + deployment.getMetadata().getName() + " has"));
                    }
                }
            }
        }
        for (Manifest manifest : manifests.ofKind("PodDisruptionBudget")) {
            Map<String, String> selector = manifest.as(PodDisruptionBudget.class).getSpec().getSelector().getMatchLabels();
            if (deployments.stream().noneMatch(deployment -> selects(selector, deployment))) {
                problems.add(Problem.in(manifest, "selector " + selector + " matches the pods of no Deployment"));
            }
        }
        return problems;
    }

    private static boolean selects(Map<String, String> selector, Deployment deployment) {
        Map<String, String> labels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        return selector != null && !selector.isEmpty() && labels != null
                && selector.entrySet().stream().allMatch(label -> Objects.equals(labels.get(label.getKey()), label.getValue()));
    }

    private static boolean hasPort(Deployment deployment, IntOrString target) {
        for (Container container : deployment.getSpec().getTemplate().getSpec().getContainers()) {
            for (ContainerPort port : container.getPorts() == null ? List.<ContainerPort>of() : container.getPorts()) {
                if (target.getStrVal() != null ? target.getStrVal().equals(port.getName())
                        : Objects.equals(target.getIntVal(), port.getContainerPort())) {
                    return true;
                }
            }
        }
        return false;
    }
}
