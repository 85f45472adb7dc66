import { BpmnModdle } from 'bpmn-moddle';
import zeebe from 'zeebe-bpmn-moddle/resources/zeebe.json';
import lifeline from '../resources/lifeline.json';

/** Lifeline's extension namespace in BPMN files (docs/decisions/0010-bpmn.md). */
export const LIFELINE_NS = 'https://lifeline.dev/schema/bpmn/1.0';
/** Camunda 8's extension namespace, read and written as Camunda Modeler does. */
export const ZEEBE_NS = 'http://camunda.org/schema/zeebe/1.0';

/** The moddle descriptors of the two extension namespaces (also served to the web UI's modeler). */
export const MODDLE_EXTENSIONS = { zeebe, lifeline } as const;

/** A BPMN moddle that knows the Camunda 8 (zeebe) and Lifeline extension elements. */
export function createModdle(): BpmnModdle {
  return new BpmnModdle(MODDLE_EXTENSIONS as unknown as Record<string, object>);
}
