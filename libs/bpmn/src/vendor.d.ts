// bpmn-moddle ships no declarations for its entry point: the parts Lifeline uses.
declare module 'bpmn-moddle' {
  /** A moddle element: its `$type` (e.g. `bpmn:UserTask`) and its properties by name. */
  export interface ModdleElement {
    $type: string;
    $parent?: ModdleElement;
    $attrs?: Record<string, string>;
    id?: string;
    name?: string;
    [property: string]: unknown;
    get(name: string): unknown;
    set(name: string, value: unknown): void;
  }
  export interface ParseWarning {
    message: string;
    element?: ModdleElement;
    property?: string;
    value?: unknown;
    error?: Error;
  }
  export interface ParseResult {
    rootElement: ModdleElement;
    references: { element: ModdleElement; property: string; id: string }[];
    warnings: ParseWarning[];
    elementsById: Record<string, ModdleElement>;
  }
  export class BpmnModdle {
    constructor(packages?: Record<string, object>, options?: Record<string, unknown>);
    fromXML(xml: string, typeName?: string, options?: Record<string, unknown>): Promise<ParseResult>;
    toXML(element: ModdleElement, options?: { format?: boolean; preamble?: boolean }): Promise<{ xml: string }>;
    create(type: string, properties?: Record<string, unknown>): ModdleElement;
    getType(type: string): unknown;
  }
}
