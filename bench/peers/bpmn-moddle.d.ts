// bpmn-moddle ships no types; the harness parses the BPMN once with it and hands the result to bpmn-engine.
declare module 'bpmn-moddle' {
  export default class BpmnModdle {
    fromXML(xml: string): Promise<unknown>;
  }
}
