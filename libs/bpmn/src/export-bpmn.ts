import type { BpmnModdle, ModdleElement } from 'bpmn-moddle';
import type { ProcessDefinition } from '@lifeline/process-domain';
import { buildProcess, type BuiltProcess } from './export/build-process';
import { layoutGraph } from './export/layout';
import { createModdle } from './moddle';

/**
 * Writes a definition as BPMN 2.0 XML with diagram interchange (docs/decisions/0010-bpmn.md): the mapping table's
 * elements, laid out left to right. The same definition always gives the same text.
 */
export async function exportBpmn(definition: ProcessDefinition): Promise<string> {
  const moddle = createModdle();
  const built = buildProcess(moddle, definition);
  addDiagram(moddle, built);
  const { xml } = await moddle.toXML(built.definitions, { format: true });
  return xml;
}

/** One BPMNShape per flow node and one BPMNEdge per sequence flow (bpmn-js places the labels itself). */
function addDiagram(moddle: BpmnModdle, built: BuiltProcess): void {
  const start = built.nodes.find((node) => node.element.$type === 'bpmn:StartEvent')?.id;
  const extra: [string, string][] =
    start === undefined ? [] : built.detachedTargets.map((target) => [start, target] as [string, string]);
  const layout = layoutGraph(built.nodes, built.flows, extra);
  const bounds = (b: { x: number; y: number; width: number; height: number }) => moddle.create('dc:Bounds', { ...b });
  const planeElements: ModdleElement[] = [];
  for (const node of built.nodes) {
    const shape = layout.shapes.get(node.id);
    if (!shape) continue;
    planeElements.push(
      moddle.create('bpmndi:BPMNShape', {
        id: built.uniqueId(`${node.id}-di`),
        bpmnElement: node.element,
        bounds: bounds(shape),
        ...(node.element.$type === 'bpmn:ExclusiveGateway' ? { isMarkerVisible: true } : {}),
      }),
    );
  }
  for (const flow of built.flows) {
    const points = layout.edges.get(flow.id) ?? [];
    planeElements.push(
      moddle.create('bpmndi:BPMNEdge', {
        id: built.uniqueId(`${flow.id}-di`),
        bpmnElement: flow.element,
        waypoint: points.map((point) => moddle.create('dc:Point', { ...point })),
      }),
    );
  }
  const plane = moddle.create('bpmndi:BPMNPlane', {
    id: built.uniqueId('plane'),
    bpmnElement: built.process,
    planeElement: planeElements,
  });
  const diagram = moddle.create('bpmndi:BPMNDiagram', { id: built.uniqueId('diagram'), plane });
  built.definitions.diagrams = [diagram];
}
