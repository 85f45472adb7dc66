// The designer: a bpmn-js modeler with Lifeline's own properties panel beside it. The panel writes each field into
// the zeebe:* and lifeline:* extension elements docs/decisions/0010-bpmn.md names, so the saved XML is what the
// server's BPMN import reads; Publish posts it as a new version and shows the server's problems on their elements.
import { api, get, query, session } from './api.js';
import { h, replace, field, errorBox, announce, setFieldError } from './dom.js';
import { loadBpmnJs } from './bpmn-viewer.js';

const VENDOR = '/assets/vendor';
const ELEMENT_ID = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const ENTITY_KINDS = ['created', 'updated', 'deleted'];
const FORM_PREFIX = 'camunda-forms:bpmn:';
const FIELD_TYPES = [
  ['text', 'Text'],
  ['number', 'Number'],
  ['boolean', 'Yes/no'],
  ['date', 'Date'],
];
// Camunda Form components per Lifeline field type, and back (textarea reads as text too).
const COMPONENT_OF = { text: 'textfield', number: 'number', boolean: 'checkbox', date: 'datetime' };
const TYPE_OF = { textfield: 'text', textarea: 'text', number: 'number', checkbox: 'boolean', datetime: 'date' };

const TYPE_LABELS = {
  'bpmn:StartEvent': 'Start',
  'bpmn:EndEvent': 'End',
  'bpmn:UserTask': 'User task',
  'bpmn:ServiceTask': 'Service task',
  'bpmn:Task': 'Automatic step',
  'bpmn:ExclusiveGateway': 'Decision',
  'bpmn:InclusiveGateway': 'Inclusive gateway',
  'bpmn:ParallelGateway': 'Parallel gateway',
  'bpmn:EventBasedGateway': 'Event-based gateway',
  'bpmn:IntermediateCatchEvent': 'Wait',
  'bpmn:IntermediateThrowEvent': 'Intermediate event',
  'bpmn:BoundaryEvent': 'Boundary event',
  'bpmn:CallActivity': 'Sub-process',
  'bpmn:SequenceFlow': 'Flow',
};

/** What "Append" offers: a type, and an event definition after a +. */
const APPEND_KINDS = [
  ['bpmn:UserTask', 'User task'],
  ['bpmn:ServiceTask', 'Service task'],
  ['bpmn:Task', 'Automatic step'],
  ['bpmn:ExclusiveGateway', 'Decision'],
  ['bpmn:ParallelGateway', 'Parallel gateway'],
  ['bpmn:IntermediateCatchEvent+bpmn:ConditionalEventDefinition', 'Wait for a condition'],
  ['bpmn:IntermediateCatchEvent+bpmn:TimerEventDefinition', 'Wait for a duration'],
  ['bpmn:CallActivity', 'Sub-process'],
  ['bpmn:EndEvent', 'End'],
];

const NEW_DIAGRAM = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Process_1" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_1">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="172" y="162" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
`;

let vendor = null;
/** bpmn-js's bundle, its styles and the two moddle descriptors, loaded once on the first visit. */
function loadVendor() {
  // The bundle and its styles through the viewer's loader, which keeps the viewer's and the modeler's BpmnJS apart.
  vendor ??= (async () => {
    const [BpmnJS, zeebe, lifeline] = await Promise.all([
      loadBpmnJs('modeler'),
      ...['zeebe', 'lifeline'].map((name) => get(`${VENDOR}/moddle/${name}.json`)),
    ]);
    return { BpmnJS, moddleExtensions: { zeebe, lifeline } };
  })();
  vendor.catch(() => (vendor = null));
  return vendor;
}

const isA = (bo, type) => Boolean(bo && bo.$instanceOf && bo.$instanceOf(type));
const stripFeel = (text) => (typeof text === 'string' ? text.replace(/^=\s*/, '') : '');
/** Camunda's expression mark (decision 0010, "FEEL"): the import strips it, the export writes it. */
const feel = (text) => (text ? `=${text}` : '');
const emptyToUndefined = (value) => (value === '' || value === null ? undefined : value);
const splitWords = (text) => (text ?? '').split(/[\s,]+/).filter(Boolean);

export function designerView(container, [param]) {
  const key = param === 'new' ? null : param;
  let modeler = null;
  let destroyed = false;
  /** Set once a drawing is imported: bpmn-js fires its events during the import too. */
  let ready = false;
  let selected = null;
  /** Issues of the last refused publish, by element id; an element changed since leaves it. */
  let issuesByElement = new Map();
  /** Commands run since the drawing was opened, and how many of them the server has (loaded or published). */
  let revision = 0;
  let publishedRevision = 0;
  /** The assignee kind chosen for a task whose assignee is still empty (nothing to read it from). */
  const assigneeKinds = new Map();

  const errors = errorBox();
  const outcome = h('div', { class: 'publish-outcome', role: 'status', tabindex: '-1' });
  const issuesEl = h('section', { class: 'issues', 'aria-labelledby': 'issues-title', tabindex: '-1', hidden: true });
  const canvasEl = h('div', { class: 'designer-canvas' });
  const panel = h('form', {
    class: 'designer-panel',
    'aria-label': 'Properties',
    novalidate: true,
    onSubmit: (event) => event.preventDefault(),
  });
  const publishButton = h('button', { type: 'button', class: 'primary', onClick: () => publish() }, 'Publish');
  replace(
    container,
    h('h1', { tabindex: '-1' }, key ? `Design ${key}` : 'New process'),
    h(
      'p',
      { class: 'designer-bar' },
      h('a', { href: key ? `#/processes/${encodeURIComponent(key)}` : '#/processes' }, 'Back to processes'),
      ' ',
      publishButton,
    ),
    h(
      'p',
      { class: 'field-hint', id: 'designer-help' },
      'Draw with the palette and the shapes’ menus, or choose an element in the Element list and use Append and ',
      'Connect in the panel. With the diagram focused, Ctrl+Z undoes and Delete removes what is selected.',
    ),
    session.me?.admin ? null : h('p', { class: 'notice' }, 'Only admins may publish; you can draw and look.'),
    errors.el,
    outcome,
    issuesEl,
    h('div', { class: 'designer' }, canvasEl, panel),
  );

  (async () => {
    try {
      const { BpmnJS, moddleExtensions } = await loadVendor();
      if (destroyed) return;
      modeler = new BpmnJS({ container: canvasEl, moddleExtensions });
      modeler.get('commandStack').registerHandler('lifeline.batch', BatchHandler);
      const svg = canvasEl.querySelector('svg');
      svg?.setAttribute('aria-label', 'Process diagram');
      svg?.setAttribute('aria-describedby', 'designer-help');
      modeler.on('selection.changed', ({ newSelection }) => {
        selected = newSelection.length === 1 ? newSelection[0] : null;
        renderPanel();
      });
      modeler.on('elements.changed', ({ elements }) => {
        if (ready) settleIssues(elements);
      });
      modeler.on('commandStack.changed', () => {
        if (!ready) return;
        revision += 1;
        if (selected && !service('elementRegistry').get(selected.id)) selected = null;
        renderPanel();
      });
      let xml = NEW_DIAGRAM;
      if (key) {
        const details = await get(`/definitions/${encodeURIComponent(key)}`);
        xml = await api(
          'GET',
          `/definitions/${encodeURIComponent(key)}/bpmn${query({ version: details.version })}`,
          undefined,
          { accept: 'application/bpmn+xml, application/xml;q=0.9' },
        );
        if (destroyed) return;
      }
      const { warnings } = await modeler.importXML(xml);
      if (warnings?.length) console.warn('BPMN import warnings', warnings);
      ready = true;
      publishedRevision = revision;
      service('canvas').zoom('fit-viewport', 'auto');
      renderPanel();
    } catch (error) {
      errors.show(error);
    }
  })();

  /** One undo step for a panel edit that takes several modeling commands. */
  class BatchHandler {
    preExecute(context) {
      context.run();
    }
  }

  const service = (name) => modeler.get(name);
  function update(run) {
    service('commandStack').execute('lifeline.batch', { run });
  }

  // ---- moddle helpers -------------------------------------------------------------------------------------------

  const extensions = (bo) => bo?.extensionElements?.get('values') ?? [];
  const findExt = (bo, type) => extensions(bo).find((v) => isA(v, type));

  function isEmptyExt(item) {
    return item.$descriptor.properties.every((p) => {
      const value = item.get(p.name);
      return p.isMany ? !value || value.length === 0 : value === undefined || value === '';
    });
  }

  function appendExt(element, bo, item) {
    let ext = bo.extensionElements;
    if (!ext) {
      ext = service('bpmnFactory').create('bpmn:ExtensionElements', { values: [] });
      ext.$parent = bo;
      service('modeling').updateModdleProperties(element, bo, { extensionElements: ext });
    }
    item.$parent = ext;
    service('modeling').updateModdleProperties(element, ext, { values: [...ext.get('values'), item] });
  }

  function removeExt(element, bo, item) {
    const values = extensions(bo).filter((v) => v !== item);
    if (values.length === 0) service('modeling').updateModdleProperties(element, bo, { extensionElements: undefined });
    else service('modeling').updateModdleProperties(element, bo.extensionElements, { values });
  }

  /** Sets attributes of bo's one extension element of `type`, made as needed; one left empty is removed. */
  function putExt(element, bo, type, props) {
    const values = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, emptyToUndefined(v)]));
    let item = findExt(bo, type);
    if (!item) {
      if (Object.values(values).every((v) => v === undefined || (Array.isArray(v) && v.length === 0))) return;
      item = service('bpmnFactory').create(type, {});
      appendExt(element, bo, item);
    }
    service('modeling').updateModdleProperties(element, item, values);
    if (isEmptyExt(item)) removeExt(element, bo, item);
  }

  const expression = (body) => (body ? service('bpmnFactory').create('bpmn:FormalExpression', { body }) : undefined);

  /** bpmn-js gives a replaced element a new id; an activity's id is its Lifeline id, so it keeps the old one. */
  function replaceKeepingId(element, target) {
    const id = element.id;
    const next = service('bpmnReplace').replaceElement(element, target);
    if (next.id !== id) service('modeling').updateProperties(next, { id });
    return next;
  }

  function reselect(element) {
    selected = element;
    service('selection').select(element);
  }

  /** The executable process and the shape to record its changes on (the root, or its pool). */
  function processTarget() {
    const root = service('canvas').getRootElement();
    const bo = root.businessObject;
    if (isA(bo, 'bpmn:Process')) return { element: root, bo };
    const participant = (bo.participants ?? []).find((p) => p.processRef);
    return { element: service('elementRegistry').get(participant.id), bo: participant.processRef };
  }

  function readProcess() {
    const { bo } = processTarget();
    const definition = findExt(bo, 'lifeline:Definition');
    return {
      name: bo.name ?? '',
      key: definition?.key ?? '',
      relatedEntity: definition?.relatedEntity ?? '',
      executionOrder: definition?.executionOrder,
      startableBy: definition?.startableBy ?? '',
    };
  }

  // ---- the panel ------------------------------------------------------------------------------------------------

  function renderPanel() {
    if (!ready || destroyed) return;
    const active = panel.contains(document.activeElement) ? document.activeElement.id : null;
    const element = selected && service('elementRegistry').get(selected.id) ? selected : null;
    const bo = element?.businessObject;
    const issues = element ? (issuesByElement.get(element.id) ?? []) : [];
    replace(
      panel,
      h('h2', { tabindex: '-1', id: 'properties-title' }, 'Properties'),
      elementPicker(element),
      issues.length
        ? h(
            'ul',
            { class: 'panel-issues', 'aria-label': 'Problems with this element' },
            issues.map((i) => h('li', {}, i.message)),
          )
        : null,
      !element || isA(bo, 'bpmn:Process') || isA(bo, 'bpmn:Participant') ? processSection() : elementSection(element),
    );
    if (active) document.getElementById(active)?.focus();
  }

  /** Every element in a list, so the keyboard can reach what the canvas only offers to a mouse. */
  function elementPicker(current) {
    const elements = service('elementRegistry').filter(
      (e) => e.type !== 'label' && e.businessObject && isA(e.businessObject, 'bpmn:FlowElement'),
    );
    const picker = h(
      'select',
      {
        id: 'prop-element',
        onChange: () => {
          const chosen = picker.value ? service('elementRegistry').get(picker.value) : null;
          reselect(chosen);
          if (chosen) service('canvas').scrollToElement(chosen);
        },
      },
      h('option', { value: '', selected: !current }, 'The process'),
      elements.map((e) => h('option', { value: e.id, selected: e === current }, describe(e))),
    );
    return field('Element', picker);
  }

  function describe(element) {
    const bo = element.businessObject;
    const type = TYPE_LABELS[bo.$type] ?? bo.$type.replace(/^bpmn:/, '');
    if (isA(bo, 'bpmn:SequenceFlow')) {
      const from = bo.sourceRef?.name || bo.sourceRef?.id;
      const to = bo.targetRef?.name || bo.targetRef?.id;
      return `${type}: ${bo.name ? `${bo.name}, ` : ''}${from} → ${to}`;
    }
    return `${type}: ${bo.name || bo.id}`;
  }

  // Controls: each commits on change (Enter or leaving the field), so one edit is one undo step.
  function textField(id, label, value, commit, options = {}) {
    const control = h(options.multiline ? 'textarea' : 'input', {
      id: `prop-${id}`,
      type: options.multiline ? undefined : (options.type ?? 'text'),
      rows: options.multiline ? '3' : undefined,
      value: value ?? '',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: options.placeholder,
    });
    control.addEventListener('change', () => {
      const problem = options.check?.(control.value.trim());
      setFieldError(control, problem);
      if (!problem) commit(control.value.trim());
    });
    return field(label, control, options);
  }

  function checkField(id, label, checked, commit) {
    const control = h('input', { type: 'checkbox', id: `prop-${id}`, checked: Boolean(checked) });
    control.addEventListener('change', () => commit(control.checked));
    return h('div', { class: 'field checkbox' }, h('label', { for: control.id }, control, label));
  }

  function selectField(id, label, options, value, commit, extra = {}) {
    const control = h(
      'select',
      { id: `prop-${id}` },
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
    );
    control.addEventListener('change', () => commit(control.value));
    return field(label, control, extra);
  }

  /** A list of names: rename in place (empty removes), Remove, and an input with Add. */
  function listField(id, legend, names, commit, { addLabel, addButton = 'Add', hint } = {}) {
    const addInput = h('input', { type: 'text', id: `prop-${id}-new`, autocomplete: 'off' });
    const add = () => {
      const name = addInput.value.trim();
      if (!name) return addInput.focus();
      if (names.includes(name)) return setFieldError(addInput, `${name} is already listed`);
      commit([...names, name]);
      document.getElementById(`prop-${id}-new`)?.focus();
    };
    addInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        add();
      }
    });
    return h(
      'fieldset',
      { class: 'list-field' },
      h('legend', {}, legend),
      hint ? h('p', { class: 'field-hint' }, hint) : null,
      h(
        'ul',
        {},
        names.map((name, index) => {
          const input = h('input', {
            type: 'text',
            id: `prop-${id}-${index}`,
            value: name,
            autocomplete: 'off',
            'aria-label': `${legend} ${index + 1}`,
          });
          input.addEventListener('change', () => {
            const value = input.value.trim();
            commit(value ? names.map((n, i) => (i === index ? value : n)) : names.filter((_, i) => i !== index));
          });
          return h(
            'li',
            {},
            input,
            h(
              'button',
              {
                type: 'button',
                class: 'quiet',
                'aria-label': `Remove ${name}`,
                onClick: () => commit(names.filter((_, i) => i !== index)),
              },
              'Remove',
            ),
          );
        }),
      ),
      h(
        'div',
        { class: 'list-add' },
        field(addLabel, addInput),
        h('button', { type: 'button', onClick: add }, addButton),
      ),
    );
  }

  function processSection() {
    const { element, bo } = processTarget();
    const p = readProcess();
    const put = (props) => update(() => putExt(element, bo, 'lifeline:Definition', props));
    return h(
      'div',
      { class: 'panel-section' },
      h('h3', {}, 'Process'),
      textField('key', 'Key', p.key, (key) => put({ key }), {
        required: true,
        hint: 'Lower-case letters, digits and -; stays the same across versions',
        check: (v) => (v && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(v) ? 'Use lower-case letters, digits and -' : null),
      }),
      textField('process-name', 'Name', p.name, (name) =>
        update(() => service('modeling').updateModdleProperties(element, bo, { name: emptyToUndefined(name) })),
      ),
      textField('related-entity', 'Related entity', p.relatedEntity, (relatedEntity) => put({ relatedEntity }), {
        required: true,
        hint: 'The record type, e.g. Invoice',
      }),
      textField(
        'execution-order',
        'Execution order',
        p.executionOrder === undefined ? '' : String(p.executionOrder),
        (v) => put({ executionOrder: v === '' ? undefined : Number(v) }),
        {
          type: 'number',
          hint: 'Smaller starts first when one event starts several processes',
          check: (v) => (v !== '' && !Number.isInteger(Number(v)) ? 'A whole number' : null),
        },
      ),
      textField('startable-by', 'Startable by', p.startableBy, (v) => put({ startableBy: splitWords(v).join(' ') }), {
        hint: 'Roles that may start it by hand, separated by spaces; empty: admins only',
      }),
    );
  }

  function elementSection(element) {
    const bo = element.businessObject;
    const parts = [h('h3', {}, TYPE_LABELS[bo.$type] ?? bo.$type.replace(/^bpmn:/, ''))];
    if (!isA(bo, 'bpmn:SequenceFlow')) parts.push(idField(element));
    if (isA(bo, 'bpmn:UserTask')) parts.push(...userTaskFields(element));
    else parts.push(nameField(element, 'Name'));
    if (isA(bo, 'bpmn:StartEvent')) parts.push(...startFields(element));
    if (isA(bo, 'bpmn:ServiceTask')) parts.push(...serviceFields(element));
    if (isA(bo, 'bpmn:ExclusiveGateway') || isA(bo, 'bpmn:InclusiveGateway')) parts.push(...gatewayFields(element));
    if (isA(bo, 'bpmn:SequenceFlow')) parts.push(...flowFields(element));
    if (isA(bo, 'bpmn:IntermediateCatchEvent')) parts.push(...waitFields(element));
    if (isA(bo, 'bpmn:BoundaryEvent')) parts.push(...boundaryFields(element));
    if (isA(bo, 'bpmn:CallActivity')) parts.push(...callFields(element));
    if (isA(bo, 'bpmn:EndEvent')) parts.push(...endFields(element));
    if (isA(bo, 'bpmn:FlowNode') && !isA(bo, 'bpmn:EndEvent')) parts.push(drawFields(element));
    return h('div', { class: 'panel-section' }, parts);
  }

  /** Append and connect without a mouse: what the canvas's context pad offers, as form controls. */
  function drawFields(element) {
    const kind = h(
      'select',
      { id: 'prop-append-kind' },
      APPEND_KINDS.map(([value, label]) => h('option', { value }, label)),
    );
    const append = () => {
      const [type, eventDefinitionType] = kind.value.split('+');
      let shape = null;
      update(() => {
        shape = service('elementFactory').createShape({
          type,
          ...(eventDefinitionType ? { eventDefinitionType } : {}),
        });
        shape = service('autoPlace').append(element, shape);
      });
      reselect(shape);
      announce(`Appended ${describe(shape)}`);
      document.getElementById('prop-id')?.focus();
    };
    const targets = service('elementRegistry').filter(
      (e) =>
        e !== element &&
        e.type !== 'label' &&
        isA(e.businessObject, 'bpmn:FlowNode') &&
        !isA(e.businessObject, 'bpmn:StartEvent') &&
        !isA(e.businessObject, 'bpmn:BoundaryEvent') &&
        !element.outgoing.some((c) => c.target === e),
    );
    const target = h(
      'select',
      { id: 'prop-connect-to' },
      targets.map((e) => h('option', { value: e.id }, describe(e))),
    );
    const connect = () => {
      const to = service('elementRegistry').get(target.value);
      if (!to) return;
      let flow = null;
      update(() => (flow = service('modeling').connect(element, to)));
      announce(`Connected to ${describe(to)}`);
      reselect(flow);
    };
    return h(
      'fieldset',
      { class: 'draw' },
      h('legend', {}, 'Draw from here'),
      h(
        'div',
        { class: 'list-add' },
        field('Append', kind),
        h('button', { type: 'button', onClick: append }, 'Append'),
      ),
      targets.length
        ? h(
            'div',
            { class: 'list-add' },
            field('Connect to', target),
            h('button', { type: 'button', onClick: connect }, 'Connect'),
          )
        : null,
    );
  }

  function idField(element) {
    return textField(
      'id',
      'Id',
      element.id,
      (id) => {
        if (id !== element.id) update(() => service('modeling').updateProperties(element, { id }));
      },
      {
        hint: 'Letters, digits and _; FEEL reads a finished step by it (review.result)',
        check: (id) => {
          if (!ELEMENT_ID.test(id)) return 'Start with a letter or _, then letters, digits or _';
          const other = service('elementRegistry').get(id);
          return other && other !== element ? `${id} is taken` : null;
        },
      },
    );
  }

  function nameField(element, label) {
    return textField('name', label, element.businessObject.name, (name) =>
      update(() => service('modeling').updateProperties(element, { name: emptyToUndefined(name) })),
    );
  }

  // -- start events
  function triggerOf(bo) {
    const definition = bo.eventDefinitions?.[0];
    const trigger = findExt(bo, 'lifeline:Trigger');
    if (isA(definition, 'bpmn:TimerEventDefinition')) return { kind: 'schedule', trigger, definition };
    if (isA(definition, 'bpmn:MessageEventDefinition')) {
      const named = ENTITY_KINDS.find((k) => (definition.messageRef?.name ?? '').endsWith(k));
      return { kind: trigger?.on ?? named ?? 'created', trigger, definition };
    }
    if (isA(definition, 'bpmn:ConditionalEventDefinition')) return { kind: 'updated', trigger, definition };
    return { kind: 'none', trigger, definition };
  }

  function startFields(element) {
    const bo = element.businessObject;
    const { kind, trigger, definition } = triggerOf(bo);
    const fields = [
      selectField(
        'trigger',
        'Starts when',
        [
          ['none', 'Started by hand (no trigger)'],
          ['created', 'The record is created'],
          ['updated', 'The record is updated'],
          ['deleted', 'The record is deleted'],
          ['schedule', 'On a schedule'],
        ],
        kind,
        (next) => setTrigger(element, next),
      ),
    ];
    const put = (props) => update(() => putExt(element, bo, 'lifeline:Trigger', props));
    // A conditional start event (drawn elsewhere) keeps its condition on the event, where the import reads it.
    const setWhen = (when) =>
      isA(definition, 'bpmn:ConditionalEventDefinition')
        ? update(() =>
            service('modeling').updateModdleProperties(element, definition, {
              condition: expression(feel(when)),
            }),
          )
        : put({ when: feel(when) });
    if (ENTITY_KINDS.includes(kind)) {
      fields.push(
        textField(
          'when',
          'Condition',
          stripFeel(trigger?.when ?? definition?.condition?.body),
          (when) => setWhen(when),
          {
            hint: 'FEEL over entity and record, e.g. entity.amount > 100; empty: always',
          },
        ),
        textField(
          'fields',
          'Only when these fields changed',
          trigger?.fields,
          (v) => put({ fields: splitWords(v).join(' ') }),
          {
            hint: 'Field names separated by spaces; empty: any change',
          },
        ),
        textField('delay', 'Delay', trigger?.delay, (delay) => put({ delay }), {
          hint: 'ISO-8601 duration, e.g. PT1H',
        }),
      );
    }
    if (kind === 'schedule') {
      fields.push(
        textField(
          'cron',
          'Cron expression',
          definition?.timeCycle?.body,
          (cron) =>
            update(() =>
              service('modeling').updateModdleProperties(element, definition, { timeCycle: expression(cron) }),
            ),
          { hint: 'e.g. 0 8 * * 1-5' },
        ),
        textField('time-zone', 'Time zone', trigger?.timeZone, (timeZone) => put({ timeZone }), {
          hint: 'IANA name, e.g. Europe/Lisbon; empty: UTC',
        }),
      );
    }
    return fields;
  }

  function setTrigger(element, kind) {
    const want =
      kind === 'none' ? undefined : kind === 'schedule' ? 'bpmn:TimerEventDefinition' : 'bpmn:MessageEventDefinition';
    let next = element;
    update(() => {
      const have = element.businessObject.eventDefinitions?.[0]?.$type;
      if (have !== want)
        next = replaceKeepingId(element, { type: 'bpmn:StartEvent', ...(want ? { eventDefinitionType: want } : {}) });
      const bo = next.businessObject;
      const clear = { on: undefined, fields: undefined, when: undefined, delay: undefined, timeZone: undefined };
      const kept = findExt(bo, 'lifeline:Trigger');
      if (kind === 'none') putExt(next, bo, 'lifeline:Trigger', clear);
      else if (kind === 'schedule')
        putExt(next, bo, 'lifeline:Trigger', { ...clear, on: 'schedule', timeZone: kept?.timeZone });
      else {
        putExt(next, bo, 'lifeline:Trigger', { on: kind, timeZone: undefined });
        nameMessage(next, kind);
      }
    });
    reselect(next);
  }

  /** A message start event's message is named `<Type>.<kind>`, as the import matches it. */
  function nameMessage(element, kind) {
    const definition = element.businessObject.eventDefinitions[0];
    const name = `${readProcess().relatedEntity || 'Record'}.${kind}`;
    if (definition.messageRef) {
      if (definition.messageRef.name !== name)
        service('modeling').updateModdleProperties(element, definition.messageRef, { name });
      return;
    }
    const definitions = modeler.getDefinitions();
    const message = service('bpmnFactory').create('bpmn:Message', { name });
    message.$parent = definitions;
    service('modeling').updateModdleProperties(element, definitions, {
      rootElements: [...definitions.get('rootElements'), message],
    });
    service('modeling').updateModdleProperties(element, definition, { messageRef: message });
  }

  /** Messages follow the related entity chosen after the trigger was. */
  function syncMessages() {
    const starts = service('elementRegistry').filter((e) => isA(e.businessObject, 'bpmn:StartEvent'));
    const stale = starts
      .map((e) => ({ e, ...triggerOf(e.businessObject) }))
      .filter(
        ({ kind, definition }) =>
          ENTITY_KINDS.includes(kind) &&
          isA(definition, 'bpmn:MessageEventDefinition') &&
          definition.messageRef?.name !== `${readProcess().relatedEntity || 'Record'}.${kind}`,
      );
    if (stale.length) update(() => stale.forEach(({ e, kind }) => nameMessage(e, kind)));
  }

  // -- user tasks
  function readAssignee(bo) {
    const definition = findExt(bo, 'zeebe:AssignmentDefinition');
    if (definition?.candidateGroups) return { kind: 'role', value: definition.candidateGroups };
    if (definition?.assignee?.startsWith('=')) return { kind: 'userFrom', value: stripFeel(definition.assignee) };
    if (definition?.assignee) return { kind: 'user', value: definition.assignee };
    return { kind: assigneeKinds.get(bo.id) ?? 'role', value: '' };
  }

  function writeAssignee(element, kind, value) {
    assigneeKinds.set(element.id, kind);
    const props =
      kind === 'role'
        ? { candidateGroups: value, assignee: undefined }
        : { assignee: value && kind === 'userFrom' ? `=${value}` : value, candidateGroups: undefined };
    update(() =>
      putExt(element, element.businessObject, 'zeebe:AssignmentDefinition', { ...props, candidateUsers: undefined }),
    );
  }

  /** `zeebe:taskSchedule dueDate="=now() + duration(\"P2D\")"`, as the export writes it beside lifeline:task dueIn. */
  function dueInOf(bo) {
    const dueDate = findExt(bo, 'zeebe:TaskSchedule')?.dueDate ?? '';
    return /duration\(\s*"([^"]+)"\s*\)/.exec(dueDate)?.[1] ?? '';
  }

  /** Both places say the same due time, so Camunda Modeler shows what Lifeline runs. */
  function setDueIn(element, dueIn) {
    const bo = element.businessObject;
    update(() => {
      putExt(element, bo, 'lifeline:Task', { dueIn });
      putExt(element, bo, 'zeebe:TaskSchedule', {
        dueDate: dueIn ? `=now() + duration(${JSON.stringify(dueIn)})` : undefined,
      });
    });
  }

  function readForm(bo) {
    const formKey = findExt(bo, 'zeebe:FormDefinition')?.formKey ?? '';
    const formId = formKey.startsWith(FORM_PREFIX) ? formKey.slice(FORM_PREFIX.length) : null;
    const form = formId
      ? extensions(processTarget().bo).find((v) => isA(v, 'zeebe:UserTaskForm') && v.id === formId)
      : null;
    let components = [];
    try {
      components = form?.body ? (JSON.parse(form.body).components ?? []) : [];
    } catch {
      components = [];
    }
    const fields = [];
    let question = null;
    for (const c of components) {
      if (c.type === 'radio' || c.type === 'checklist')
        question = {
          text: c.label ?? '',
          options: (c.values ?? []).map((v) => String(v.label ?? v.value)),
          multiple: c.type === 'checklist',
        };
      else if (TYPE_OF[c.type] && c.key)
        fields.push({
          name: c.key,
          type: TYPE_OF[c.type],
          required: Boolean(c.validate?.required),
          label: c.label ?? c.dateLabel ?? '',
        });
    }
    return { formId, form, fields, question };
  }

  /** The form fields and the question as a Camunda Form embedded in the process (zeebe:userTaskForm). */
  function writeForm(element, fields, question) {
    const bo = element.businessObject;
    const process = processTarget();
    const current = readForm(bo);
    const asked = question && (question.text || question.options.length) ? question : null;
    update(() => {
      if (fields.length === 0 && !asked) {
        putExt(element, bo, 'zeebe:FormDefinition', {
          formKey: undefined,
          formId: undefined,
          externalReference: undefined,
        });
        if (current.form) removeExt(process.element, process.bo, current.form);
        return;
      }
      const formId = current.formId ?? `UserTaskForm_${Math.random().toString(36).slice(2, 9)}`;
      const components = fields.map((f) => ({
        type: COMPONENT_OF[f.type],
        key: f.name,
        ...(f.label ? { label: f.label } : {}),
        ...(f.type === 'date' ? { subtype: 'date', ...(f.label ? { dateLabel: f.label } : {}) } : {}),
        ...(f.required ? { validate: { required: true } } : {}),
      }));
      if (asked)
        components.push({
          type: asked.multiple ? 'checklist' : 'radio',
          key: 'answer',
          label: asked.text,
          values: asked.options.map((o) => ({ label: o, value: o })),
        });
      const body = JSON.stringify({ type: 'default', components });
      putExt(element, bo, 'zeebe:FormDefinition', { formKey: `${FORM_PREFIX}${formId}` });
      if (current.form) service('modeling').updateModdleProperties(process.element, current.form, { body });
      else
        appendExt(
          process.element,
          process.bo,
          service('bpmnFactory').create('zeebe:UserTaskForm', { id: formId, body }),
        );
    });
  }

  function userTaskFields(element) {
    const bo = element.businessObject;
    const task = findExt(bo, 'lifeline:Task');
    const putTask = (props) => update(() => putExt(element, bo, 'lifeline:Task', props));
    const assignee = readAssignee(bo);
    const { fields, question } = readForm(bo);
    const results = (task?.results ?? []).map((r) => r.name);
    const documentation = bo.documentation?.[0]?.text ?? '';
    const q = question ?? { text: '', options: [], multiple: false };
    return [
      textField(
        'name',
        'Title',
        bo.name,
        (name) => update(() => service('modeling').updateProperties(element, { name: emptyToUndefined(name) })),
        { required: true },
      ),
      textField(
        'instructions',
        'Instructions',
        documentation,
        (text) =>
          update(() =>
            service('modeling').updateProperties(element, {
              documentation: text ? [service('bpmnFactory').create('bpmn:Documentation', { text })] : [],
            }),
          ),
        { multiline: true },
      ),
      h(
        'fieldset',
        { class: 'assignee' },
        h('legend', {}, 'Assignee'),
        selectField(
          'assignee-kind',
          'Assign to',
          [
            ['role', 'A role'],
            ['user', 'A user'],
            ['userFrom', 'The user a FEEL expression names'],
          ],
          assignee.kind,
          (kind) => writeAssignee(element, kind, assignee.value),
        ),
        textField(
          'assignee',
          assignee.kind === 'role' ? 'Role' : assignee.kind === 'user' ? 'User' : 'User from (FEEL)',
          assignee.value,
          (value) => writeAssignee(element, assignee.kind, value),
          { required: true, hint: assignee.kind === 'userFrom' ? 'e.g. entity.ownerId' : undefined },
        ),
      ),
      textField('due-in', 'Due in', task?.dueIn ?? dueInOf(bo), (dueIn) => setDueIn(element, dueIn), {
        hint: 'ISO-8601 duration, e.g. P2D',
      }),
      listField(
        'results',
        'Results',
        results,
        (names) =>
          putTask({ results: names.map((name) => service('bpmnFactory').create('lifeline:Result', { name })) }),
        {
          addLabel: 'New result',
          addButton: 'Add result',
          hint: 'The buttons that complete the task, e.g. Approve, Reject',
        },
      ),
      formFieldsEditor(element, fields, question),
      h(
        'fieldset',
        { class: 'question' },
        h('legend', {}, 'Question'),
        textField('question-text', 'Question text', q.text, (text) => writeForm(element, fields, { ...q, text })),
        listField(
          'question-options',
          'Options',
          q.options,
          (options) => writeForm(element, fields, { ...q, options }),
          {
            addLabel: 'New option',
            addButton: 'Add option',
          },
        ),
        checkField('question-multiple', 'Several answers allowed', q.multiple, (multiple) =>
          writeForm(element, fields, { ...q, multiple }),
        ),
      ),
      textField(
        'complete-when',
        'Complete when',
        stripFeel(task?.completeWhen),
        (completeWhen) => putTask({ completeWhen: feel(completeWhen) }),
        {
          hint: 'FEEL over the record: the task completes itself when it holds',
        },
      ),
      textField('hint', 'Hint', task?.hint, (hint) => putTask({ hint })),
    ];
  }

  function formFieldsEditor(element, fields, question) {
    const write = (next) => writeForm(element, next, question);
    const newName = h('input', { type: 'text', id: 'prop-form-new', autocomplete: 'off' });
    const add = () => {
      const name = newName.value.trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return setFieldError(newName, 'Letters, digits and _');
      if (fields.some((f) => f.name === name)) return setFieldError(newName, `${name} is already a field`);
      write([...fields, { name, type: 'text', required: false, label: '' }]);
      document.getElementById('prop-form-new')?.focus();
    };
    newName.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        add();
      }
    });
    const change = (index, patch) => write(fields.map((f, i) => (i === index ? { ...f, ...patch } : f)));
    return h(
      'fieldset',
      { class: 'form-fields' },
      h('legend', {}, 'Form fields'),
      fields.map((f, index) =>
        h(
          'div',
          { class: 'form-field', role: 'group', 'aria-label': `Field ${f.name}` },
          h('p', { class: 'form-field-name' }, h('code', {}, f.name)),
          selectField(`form-${index}-type`, `Type of ${f.name}`, FIELD_TYPES, f.type, (type) =>
            change(index, { type }),
          ),
          textField(`form-${index}-label`, `Label of ${f.name}`, f.label, (label) => change(index, { label })),
          checkField(`form-${index}-required`, `${f.name} is required`, f.required, (required) =>
            change(index, { required }),
          ),
          h(
            'button',
            { type: 'button', class: 'quiet', onClick: () => write(fields.filter((_, i) => i !== index)) },
            `Remove ${f.name}`,
          ),
        ),
      ),
      h(
        'div',
        { class: 'list-add' },
        field('New field name', newName),
        h('button', { type: 'button', onClick: add }, 'Add field'),
      ),
    );
  }

  // -- service tasks, gateways, flows, waits, boundaries, calls, ends
  function serviceFields(element) {
    const bo = element.businessObject;
    const definition = findExt(bo, 'zeebe:TaskDefinition');
    return [
      textField(
        'job-type',
        'Job type',
        definition?.type,
        (type) => update(() => putExt(element, bo, 'zeebe:TaskDefinition', { type })),
        { required: true, hint: 'Workers fetch jobs by this type' },
      ),
      textField(
        'retries',
        'Retries',
        definition?.retries,
        (retries) => update(() => putExt(element, bo, 'zeebe:TaskDefinition', { retries })),
        { type: 'number', check: (v) => (v !== '' && !/^\d+$/.test(v) ? 'A whole number' : null) },
      ),
      textField(
        'retry-backoff',
        'Retry backoff',
        findExt(bo, 'lifeline:Service')?.retryBackoff,
        (retryBackoff) => update(() => putExt(element, bo, 'lifeline:Service', { retryBackoff })),
        { hint: 'ISO-8601 duration between attempts' },
      ),
    ];
  }

  const outgoing = (element) => element.outgoing.filter((c) => isA(c.businessObject, 'bpmn:SequenceFlow'));
  const targetName = (flow) => flow.businessObject.targetRef?.name || flow.businessObject.targetRef?.id;

  function setCondition(flow, text) {
    update(() => service('modeling').updateProperties(flow, { conditionExpression: expression(feel(text)) }));
  }

  function setDefault(gateway, flow) {
    update(() => {
      if (flow?.businessObject.conditionExpression)
        service('modeling').updateProperties(flow, { conditionExpression: undefined });
      service('modeling').updateProperties(gateway, { default: flow ? flow.businessObject : undefined });
    });
  }

  function gatewayFields(element) {
    const flows = outgoing(element);
    if (flows.length < 2 && element.incoming.length > 1) return [];
    const current = element.businessObject.default;
    return [
      h(
        'fieldset',
        { class: 'conditions' },
        h('legend', {}, 'Outgoing flows'),
        flows.length === 0 ? h('p', { class: 'muted' }, 'Connect this gateway to the steps it chooses between.') : null,
        flows.map((flow) =>
          flow.businessObject === current
            ? h('p', {}, `To ${targetName(flow)}: the default`)
            : textField(
                `condition-${flow.id}`,
                `Condition to ${targetName(flow)}`,
                stripFeel(flow.businessObject.conditionExpression?.body),
                (text) => setCondition(flow, text),
                { hint: 'FEEL, e.g. review.result = "Approve"' },
              ),
        ),
        flows.length
          ? selectField(
              'default-flow',
              'Default flow (otherwise)',
              [['', 'None'], ...flows.map((f) => [f.id, `To ${targetName(f)}`])],
              current?.id ?? '',
              (id) => setDefault(element, id ? service('elementRegistry').get(id) : null),
            )
          : null,
      ),
    ];
  }

  function flowFields(element) {
    const bo = element.businessObject;
    const source = element.source;
    const condition = stripFeel(bo.conditionExpression?.body);
    if (isA(source?.businessObject, 'bpmn:ExclusiveGateway') || isA(source?.businessObject, 'bpmn:InclusiveGateway')) {
      const isDefault = source.businessObject.default === bo;
      return [
        isDefault
          ? null
          : textField('condition', 'Condition', condition, (text) => setCondition(element, text), {
              hint: 'FEEL, e.g. review.result = "Approve"',
            }),
        checkField('default', 'Default flow (taken when no condition holds)', isDefault, (on) =>
          setDefault(source, on ? element : null),
        ),
      ];
    }
    if (isA(source?.businessObject, 'bpmn:UserTask')) {
      const results = (findExt(source.businessObject, 'lifeline:Task')?.results ?? []).map((r) => r.name);
      if (results.length === 0) return [];
      const taskId = source.businessObject.id;
      const match = /\.result\s*=\s*"([^"]*)"/.exec(condition);
      return [
        selectField(
          'result',
          'Taken for the result',
          [['', 'Any result'], ...results.map((r) => [r, r])],
          match ? match[1] : '',
          (result) => setCondition(element, result ? `${taskId}.result = ${JSON.stringify(result)}` : ''),
        ),
      ];
    }
    return [];
  }

  function eventKindSelect(element, kinds, rebuild) {
    const definition = element.businessObject.eventDefinitions?.[0];
    const current = kinds.find(([type]) => isA(definition, type))?.[0] ?? '';
    return selectField(
      'event-kind',
      'Waits for',
      [...(current ? [] : [['', 'Choose…']]), ...kinds.map(([type, label]) => [type, label])],
      current,
      (type) => {
        if (!type) return;
        let next = element;
        update(() => (next = replaceKeepingId(element, rebuild(type))));
        reselect(next);
      },
    );
  }

  function timerAndConditionFields(element) {
    const definition = element.businessObject.eventDefinitions?.[0];
    if (isA(definition, 'bpmn:TimerEventDefinition'))
      return textField(
        'duration',
        'Duration',
        definition.timeDuration?.body,
        (d) =>
          update(() =>
            service('modeling').updateModdleProperties(element, definition, { timeDuration: expression(d) }),
          ),
        { required: true, hint: 'ISO-8601 duration, e.g. P3D' },
      );
    if (isA(definition, 'bpmn:ConditionalEventDefinition'))
      return textField(
        'event-condition',
        'Condition',
        stripFeel(definition.condition?.body),
        (c) =>
          update(() =>
            service('modeling').updateModdleProperties(element, definition, {
              condition: expression(feel(c)),
            }),
          ),
        { required: true, hint: 'FEEL over the record, checked on entry and on every update' },
      );
    return null;
  }

  const WAIT_KINDS = [
    ['bpmn:ConditionalEventDefinition', 'A condition on the record'],
    ['bpmn:TimerEventDefinition', 'A duration (timer)'],
  ];

  function waitFields(element) {
    return [
      eventKindSelect(element, WAIT_KINDS, (type) => ({
        type: 'bpmn:IntermediateCatchEvent',
        eventDefinitionType: type,
      })),
      timerAndConditionFields(element),
    ];
  }

  function boundaryFields(element) {
    const bo = element.businessObject;
    const definition = bo.eventDefinitions?.[0];
    const interrupting = bo.cancelActivity !== false;
    const boundary = findExt(bo, 'lifeline:Boundary');
    const put = (props) => update(() => putExt(element, bo, 'lifeline:Boundary', props));
    const fields = [
      eventKindSelect(element, WAIT_KINDS, (type) => ({
        type: 'bpmn:BoundaryEvent',
        eventDefinitionType: type,
        cancelActivity: interrupting,
      })),
      timerAndConditionFields(element),
      checkField('interrupting', 'Interrupting (leaves the step and follows its flow)', interrupting, (on) => {
        let next = element;
        update(() => {
          next = replaceKeepingId(element, {
            type: 'bpmn:BoundaryEvent',
            eventDefinitionType: definition?.$type,
            cancelActivity: on,
          });
          if (on)
            putExt(next, next.businessObject, 'lifeline:Boundary', {
              every: '',
              reassignUser: '',
              reassignRole: '',
              remind: undefined,
            });
        });
        reselect(next);
      }),
    ];
    if (!interrupting && isA(definition, 'bpmn:TimerEventDefinition'))
      fields.push(
        h(
          'fieldset',
          {},
          h('legend', {}, 'When it fires'),
          textField('reassign-role', 'Reassign to role', boundary?.reassignRole, (reassignRole) =>
            put({ reassignRole, reassignUser: undefined, remind: undefined }),
          ),
          textField('reassign-user', 'Reassign to user', boundary?.reassignUser, (reassignUser) =>
            put({ reassignUser, reassignRole: undefined, remind: undefined }),
          ),
          checkField('remind', 'Remind the assignee', boundary?.remind, (remind) =>
            put({
              remind: remind || undefined,
              ...(remind ? { reassignRole: undefined, reassignUser: undefined } : {}),
            }),
          ),
          textField('every', 'Repeat every', boundary?.every, (every) => put({ every }), {
            hint: 'ISO-8601 duration; empty: once',
          }),
        ),
      );
    return fields;
  }

  function callFields(element) {
    const bo = element.businessObject;
    const called = findExt(bo, 'zeebe:CalledElement');
    const call = findExt(bo, 'lifeline:Call');
    const putCall = (props) => update(() => putExt(element, bo, 'lifeline:Call', props));
    return [
      textField(
        'called-process',
        'Process key',
        called?.processId,
        (processId) => update(() => putExt(element, bo, 'zeebe:CalledElement', { processId })),
        { required: true, hint: 'The key of the process it runs' },
      ),
      textField(
        'called-version',
        'Version',
        call?.version === undefined ? '' : String(call.version),
        (v) => putCall({ version: v === '' ? undefined : Number(v) }),
        {
          type: 'number',
          hint: 'Empty: the latest when the step starts',
          check: (v) => (v !== '' && !/^\d+$/.test(v) ? 'A whole number' : null),
        },
      ),
      textField('called-record-type', 'Record type', call?.recordType, (recordType) => putCall({ recordType }), {
        hint: 'Empty: the same record',
      }),
      textField('called-record-id', 'Record id (FEEL)', stripFeel(call?.recordId), (recordId) =>
        putCall({ recordId: feel(recordId) }),
      ),
    ];
  }

  function endFields(element) {
    const terminate = isA(element.businessObject.eventDefinitions?.[0], 'bpmn:TerminateEventDefinition');
    return [
      checkField('terminate', 'Terminate (ends every branch of the instance)', terminate, (on) => {
        let next = element;
        update(() => {
          next = replaceKeepingId(element, {
            type: 'bpmn:EndEvent',
            ...(on ? { eventDefinitionType: 'bpmn:TerminateEventDefinition' } : {}),
          });
        });
        reselect(next);
      }),
    ];
  }

  // ---- publish and the server's problems ------------------------------------------------------------------------

  function clearIssues() {
    if (!modeler) return;
    service('overlays').remove({ type: 'lifeline-issue' });
    for (const id of issuesByElement.keys()) {
      const el = service('elementRegistry').get(id);
      if (el) service('canvas').removeMarker(el, 'lifeline-has-issue');
    }
    issuesByElement = new Map();
    issuesEl.hidden = true;
    issuesEl.replaceChildren();
  }

  /** An element changed since the refused publish loses its marker; its entry in the list says so. */
  function settleIssues(elements) {
    for (const element of elements) {
      if (!issuesByElement.has(element.id)) continue;
      issuesByElement.delete(element.id);
      const el = service('elementRegistry').get(element.id);
      // A removed element's overlays went with it (and an unknown id would match every overlay).
      if (el) {
        service('canvas').removeMarker(el, 'lifeline-has-issue');
        service('overlays').remove({ element: el, type: 'lifeline-issue' });
      }
      for (const link of issuesEl.querySelectorAll(`.issue-link[data-element="${CSS.escape(element.id)}"]`)) {
        link.classList.add('issue-changed');
        if (!el) link.disabled = true;
        if (!link.querySelector('.issue-changed-note'))
          link.append(h('span', { class: 'issue-changed-note' }, ' (changed since)'));
      }
    }
  }

  function showIssues(issues) {
    clearIssues();
    const root = service('canvas').getRootElement();
    const general = [];
    const onElements = [];
    for (const issue of issues) {
      const el = issue.element?.id ? service('elementRegistry').get(issue.element.id) : null;
      if (el && el !== root) onElements.push({ issue, el });
      else general.push(issue);
    }
    for (const { issue, el } of onElements) {
      issuesByElement.set(el.id, [...(issuesByElement.get(el.id) ?? []), issue]);
      service('canvas').addMarker(el, 'lifeline-has-issue');
      service('overlays').add(el, 'lifeline-issue', {
        position: { bottom: -6, left: 0 },
        html: h('div', { class: 'lifeline-issue-overlay', 'data-element': el.id }, issue.message),
      });
    }
    replace(
      issuesEl,
      h(
        'h2',
        { id: 'issues-title' },
        `The server refused this model: ${issues.length} problem${issues.length === 1 ? '' : 's'}`,
      ),
      h(
        'ul',
        {},
        general.map((issue) =>
          h(
            'li',
            { class: 'issue-general' },
            issue.element?.name ? `${issue.element.name}: ` : '',
            issue.message,
            issue.path ? h('span', { class: 'muted' }, ` (${issue.path})`) : null,
          ),
        ),
        onElements.map(({ issue, el }) =>
          h(
            'li',
            {},
            h(
              'button',
              {
                type: 'button',
                class: 'quiet issue-link',
                'data-element': el.id,
                onClick: () => {
                  // The element may have been replaced (same id) since.
                  const now = service('elementRegistry').get(el.id);
                  if (!now) return;
                  reselect(now);
                  service('canvas').scrollToElement(now);
                  document.getElementById('properties-title')?.focus();
                },
              },
              `${issue.element.name || el.businessObject.name || el.id}: `,
              issue.message,
            ),
          ),
        ),
      ),
    );
    issuesEl.hidden = false;
    renderPanel();
    issuesEl.focus();
  }

  async function publish() {
    if (!modeler) return;
    errors.clear();
    outcome.replaceChildren();
    syncMessages();
    const process = readProcess();
    publishButton.disabled = true;
    try {
      const { xml } = await modeler.saveXML({ format: true });
      const saved = revision;
      const result = await api(
        'POST',
        `/definitions${query({ relatedEntity: process.relatedEntity, key: process.key })}`,
        xml,
        { contentType: 'application/bpmn+xml' },
      );
      publishedRevision = saved;
      clearIssues();
      renderPanel();
      const name = process.name || result.key;
      replace(
        outcome,
        h(
          'p',
          { class: 'notice' },
          result.changed === false
            ? `Nothing changed: ${name} stays at version ${result.version}. `
            : `Published ${name} as version ${result.version}. `,
          h('a', { href: `#/processes/${encodeURIComponent(result.key)}` }, 'Open the process'),
        ),
      );
      announce(`Published version ${result.version}`);
      outcome.focus();
    } catch (error) {
      if (error.status === 400 && Array.isArray(error.details) && error.details.length) showIssues(error.details);
      else errors.show(error);
    } finally {
      publishButton.disabled = false;
    }
  }

  return {
    /** The router asks before the designer is left (another route, a reload, closing the tab). */
    leaveGuard() {
      return revision !== publishedRevision
        ? 'This drawing has unpublished changes; they will be lost. Leave the designer?'
        : null;
    },
    unmount() {
      destroyed = true;
      modeler?.destroy();
    },
  };
}
