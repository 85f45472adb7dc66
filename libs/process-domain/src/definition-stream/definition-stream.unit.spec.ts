import { invoiceApproval } from '@lifeline/testing';
import { decideDefinition, DefinitionNotFound, evolveDefinition, initialDefinitionState } from './definition-stream';
import type { DefinitionEvent } from '../events';

const fold = (events: DefinitionEvent[]) => events.reduce(evolveDefinition, initialDefinitionState());
const v1: DefinitionEvent = {
  type: 'DefinitionPublished',
  data: { key: 'invoice-approval', version: 1, definition: invoiceApproval() },
};

describe('definition stream', () => {
  it('publishing a new document makes version 1, then 2 when it changes', () => {
    expect(decideDefinition(fold([]), { type: 'PublishDefinition', definition: invoiceApproval() })).toEqual([v1]);
    const changed = { ...invoiceApproval(), name: 'Invoice approval (2)' };
    expect(decideDefinition(fold([v1]), { type: 'PublishDefinition', definition: changed })).toEqual([
      { type: 'DefinitionPublished', data: { key: 'invoice-approval', version: 2, definition: changed } },
    ]);
  });
  it('publishing the same document again records nothing', () => {
    expect(decideDefinition(fold([v1]), { type: 'PublishDefinition', definition: invoiceApproval() })).toEqual([]);
  });
  it('deactivate then activate; repeating either records nothing', () => {
    const off = decideDefinition(fold([v1]), { type: 'DeactivateDefinition', key: 'invoice-approval' });
    expect(off).toEqual([{ type: 'DefinitionDeactivated', data: { key: 'invoice-approval' } }]);
    expect(decideDefinition(fold([v1, ...off]), { type: 'DeactivateDefinition', key: 'invoice-approval' })).toEqual([]);
    expect(decideDefinition(fold([v1, ...off]), { type: 'ActivateDefinition', key: 'invoice-approval' })).toEqual([
      { type: 'DefinitionActivated', data: { key: 'invoice-approval' } },
    ]);
  });
  it('activating an unknown definition is not found', () => {
    expect(() => decideDefinition(fold([]), { type: 'ActivateDefinition', key: 'x' })).toThrow(DefinitionNotFound);
  });
  it('changes the execution order', () => {
    expect(
      decideDefinition(fold([v1]), { type: 'ChangeExecutionOrder', key: 'invoice-approval', executionOrder: 3 }),
    ).toEqual([{ type: 'ExecutionOrderChanged', data: { key: 'invoice-approval', executionOrder: 3 } }]);
  });
});
